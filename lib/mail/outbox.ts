// Mail with no mail server: each message becomes one .eml file in the outbox folder (0600, the
// folder 0700), and one log line says where it went and what link it carries.
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import nodemailer from "nodemailer";
import type { MailMessage, MailSender } from "./index";

export class OutboxSender implements MailSender {
  readonly kind = "outbox" as const;
  private readonly composer = nodemailer.createTransport({ streamTransport: true, buffer: true });

  constructor(
    readonly dir: string,
    private readonly from: string,
    private readonly log: (line: string) => void = console.log,
  ) {}

  async send(message: MailMessage): Promise<void> {
    const info = await this.composer.sendMail({
      from: this.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
    });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const file = path.join(this.dir, `${stamp}-${randomBytes(4).toString("hex")}.eml`);
    await writeFile(file, info.message as Buffer, { mode: 0o600, flag: "wx" });
    this.log(
      `keyward: mail to ${message.to} ("${message.subject}") written to ${file}${message.link ? `; link: ${message.link}` : ""}`,
    );
  }
}
