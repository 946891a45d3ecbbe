// Real mail for tests: an SMTP server (smtp-server) on a free loopback port that keeps what it
// receives, parsed with mailparser; and a reader for the outbox folder (SMTP_URL unset).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  /** The SMTP AUTH user the client signed in as (null: none). */
  user: string | null;
  raw: string;
}

export interface SmtpCapture {
  url: string;
  port: number;
  messages: ReceivedMail[];
  /** Waits for a mail to `to` (whose subject matches, after the first `skip` such) and returns it. */
  waitFor(
    to: string,
    options?: { subject?: RegExp; skip?: number; timeoutMs?: number },
  ): Promise<ReceivedMail>;
  close(): Promise<void>;
}

function toAddress(parsed: ParsedMail): string {
  const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
  return (to?.value[0]?.address ?? "").toLowerCase();
}

/** Starts an SMTP server that accepts `user`/`pass` (plain AUTH, no TLS: loopback only). */
export async function startSmtpCapture(
  credentials: { user: string; pass: string } = { user: "keyward", pass: "mail-test-password" },
  port = 0,
): Promise<SmtpCapture> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error("Invalid username or password"));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", async () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const parsed = await simpleParser(raw);
        messages.push({
          to: toAddress(parsed),
          subject: parsed.subject ?? "",
          text: parsed.text ?? "",
          user: typeof session.user === "string" ? session.user : null,
          raw,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  return {
    url: `smtp://${credentials.user}:${credentials.pass}@127.0.0.1:${bound}`,
    port: bound,
    messages,
    async waitFor(to, options = {}) {
      const deadline = Date.now() + (options.timeoutMs ?? 15_000);
      const want = to.toLowerCase();
      for (;;) {
        const found = messages.filter(
          (m) => m.to === want && (!options.subject || options.subject.test(m.subject)),
        )[options.skip ?? 0];
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no mail to ${to} arrived`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The messages in an outbox folder, oldest first, parsed. */
export async function readOutbox(dir: string): Promise<(ReceivedMail & { file: string })[]> {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith(".eml"))
      .sort();
  } catch {
    return [];
  }
  const out: (ReceivedMail & { file: string })[] = [];
  for (const f of files) {
    const raw = readFileSync(path.join(dir, f), "utf8");
    const parsed = await simpleParser(raw);
    out.push({
      file: path.join(dir, f),
      to: toAddress(parsed),
      subject: parsed.subject ?? "",
      text: parsed.text ?? "",
      user: null,
      raw,
    });
  }
  return out;
}

/** The first link in a mail's text whose path starts with `prefix` (e.g. "/invite/"). */
export function linkIn(text: string, prefix: string): string {
  for (const m of text.matchAll(/https?:\/\/\S+/g)) {
    if (new URL(m[0]).pathname.startsWith(prefix)) return m[0];
  }
  throw new Error(`no ${prefix} link in: ${text}`);
}

/** The token at the end of a link like http://host/invite/<token>. */
export function tokenOf(link: string): string {
  return new URL(link).pathname.split("/").pop() ?? "";
}
