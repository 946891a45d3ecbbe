// Mail over SMTP with nodemailer: SMTP_URL is smtp://user:pass@host:port (STARTTLS when the
// server offers it) or smtps://user:pass@host:port (TLS from the first byte).
import nodemailer, { type Transporter } from "nodemailer";
import type { MailMessage, MailSender } from "./index";

export class SmtpSender implements MailSender {
  readonly kind = "smtp" as const;
  private readonly transport: Transporter;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    // A dead server must fail a send in seconds, not hang the request that sent it.
    this.transport = nodemailer.createTransport(url, {
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    } as Parameters<typeof nodemailer.createTransport>[1]);
  }

  async send(message: MailMessage): Promise<void> {
    await this.transport.sendMail({
      from: this.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
    });
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
