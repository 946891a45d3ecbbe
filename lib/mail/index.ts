// Outgoing mail: one sender for the process, chosen by SMTP_URL. Set, mail goes out over SMTP
// (nodemailer); unset, each message is written to KEYWARD_DATA_DIR/outbox as an .eml file (0600)
// and its link printed to the server log, so the embedded default needs no mail server.
// This is the one place that reads SMTP_URL, MAIL_FROM and KEYWARD_PUBLIC_URL.
import path from "node:path";
import { config } from "@/lib/config";
import { dataDir } from "@/lib/db/config";
import { OutboxSender } from "./outbox";
import { SmtpSender } from "./smtp";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** The one link the mail carries: printed to the log in outbox mode (never a password). */
  link?: string;
}

export interface MailSender {
  readonly kind: "smtp" | "outbox";
  /** Throws when the message could not be handed over (server down, refused, disk full). */
  send(message: MailMessage): Promise<void>;
  close?(): Promise<void>;
}

export interface MailConfig {
  smtpUrl?: string;
  from: string;
  outboxDir: string;
}

/** The variables mail reads, from the one configuration module (validated there). */
function mailEnv(): Record<string, string | undefined> {
  const c = config();
  return {
    SMTP_URL: c.SMTP_URL,
    MAIL_FROM: c.MAIL_FROM,
    KEYWARD_PUBLIC_URL: c.KEYWARD_PUBLIC_URL,
    HOST: c.HOST,
    PORT: String(c.PORT),
  };
}

export const DEFAULT_MAIL_FROM = "Keyward <keyward@localhost>";

/** Reads SMTP_URL and MAIL_FROM; throws on an SMTP_URL that is not smtp:// or smtps://. */
export function mailConfigFromEnv(env: Record<string, string | undefined> = mailEnv()): MailConfig {
  const smtpUrl = env.SMTP_URL?.trim() || undefined;
  if (smtpUrl) {
    let scheme = "";
    try {
      scheme = new URL(smtpUrl).protocol;
    } catch {
      // the message below, without echoing the URL (it may hold a password)
    }
    if (scheme !== "smtp:" && scheme !== "smtps:") {
      throw new Error("SMTP_URL must be smtp://user:pass@host:port or smtps://user:pass@host:port");
    }
  }
  return {
    smtpUrl,
    from: env.MAIL_FROM?.trim() || DEFAULT_MAIL_FROM,
    outboxDir: path.join(dataDir(), "outbox"),
  };
}

export function createMailSender(
  config: MailConfig,
  log: (line: string) => void = console.log,
): MailSender {
  return config.smtpUrl
    ? new SmtpSender(config.smtpUrl, config.from)
    : new OutboxSender(config.outboxDir, config.from, log);
}

// Next bundles route handlers and instrumentation separately: one sender per process on globalThis.
const KEY = Symbol.for("keyward.mail");
type Holder = { sender?: MailSender };
function holder(): Holder {
  const g = globalThis as unknown as Record<symbol, Holder>;
  g[KEY] ??= {};
  return g[KEY];
}

/** The process's sender, created from the environment on first use. */
export function getMailSender(): MailSender {
  const h = holder();
  h.sender ??= createMailSender(mailConfigFromEnv());
  return h.sender;
}

/** Why a send failed, in words safe for a log: never the SMTP_URL or its password. */
export function describeMailError(e: unknown): string {
  const err = e as { code?: string; responseCode?: number; message?: string };
  const parts = [err?.code, err?.responseCode].filter(Boolean).join(" ");
  const message = String(err?.message ?? e).replace(/\/\/[^@\s/]*@/g, "//[redacted]@");
  return parts ? `${parts}: ${message}` : message;
}

/**
 * Sends a message and reports whether it went out. Never throws: a failure is logged (recipient,
 * subject and reason; not the link) and answered `false`, so the caller keeps what it did and
 * offers a resend instead of losing the action.
 */
export async function deliverMail(
  message: MailMessage,
  options: { sender?: MailSender; log?: (line: string) => void } = {},
): Promise<boolean> {
  const log = options.log ?? console.error;
  let sender: MailSender;
  try {
    sender = options.sender ?? getMailSender();
  } catch (e) {
    log(`keyward: mail is not configured: ${(e as Error).message}`);
    return false;
  }
  try {
    await sender.send(message);
    return true;
  } catch (e) {
    log(
      `keyward: mail to ${message.to} ("${message.subject}") failed via ${sender.kind}: ${describeMailError(e)}`,
    );
    return false;
  }
}

/**
 * The app's public origin for links in mail: KEYWARD_PUBLIC_URL, else where the server listens.
 * Never the request's Host header: a forged Host would send a victim a link to someone else's
 * site carrying their one-time token.
 */
export function publicUrl(
  path: string,
  env: Record<string, string | undefined> = mailEnv(),
): string {
  const configured = env.KEYWARD_PUBLIC_URL?.trim();
  let origin: string;
  if (configured) {
    origin = new URL(configured).origin;
  } else {
    const host = env.HOST && !["0.0.0.0", "::", "[::]"].includes(env.HOST) ? env.HOST : "localhost";
    origin = `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${env.PORT || "3000"}`;
  }
  return new URL(path, origin).toString();
}
