// The mail module: with no SMTP_URL each message is an .eml file in the outbox (0600) and a log
// line with its link; with SMTP_URL it goes to a real SMTP server; a failure is reported, never
// thrown, and no log line carries the SMTP password.
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMailSender,
  DEFAULT_MAIL_FROM,
  deliverMail,
  mailConfigFromEnv,
  publicUrl,
} from "@/lib/mail";
import { readOutbox, type SmtpCapture, startSmtpCapture } from "@/tests/helpers/mail";
import { freePort } from "@/tests/helpers/server";

const message = {
  to: "Ada@Example.test",
  subject: "Confirm your email for Keyward",
  text: "Open http://127.0.0.1:3000/verify-email/abc to confirm.",
  link: "http://127.0.0.1:3000/verify-email/abc",
};

describe("outbox mode (no SMTP_URL)", () => {
  it("writes one .eml per message (0600, folder 0700) and logs the link", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "kw-mail-"));
    const previous = process.env.KEYWARD_DATA_DIR;
    process.env.KEYWARD_DATA_DIR = dataDir;
    let config: ReturnType<typeof mailConfigFromEnv>;
    try {
      config = mailConfigFromEnv({ KEYWARD_DATA_DIR: dataDir });
    } finally {
      if (previous === undefined) delete process.env.KEYWARD_DATA_DIR;
      else process.env.KEYWARD_DATA_DIR = previous;
    }
    expect(config).toEqual({
      smtpUrl: undefined,
      from: DEFAULT_MAIL_FROM,
      outboxDir: path.join(dataDir, "outbox"),
    });
    const lines: string[] = [];
    const sender = createMailSender(config, (l) => lines.push(l));
    expect(sender.kind).toBe("outbox");
    expect(await deliverMail(message, { sender })).toBe(true);
    expect(await deliverMail({ ...message, subject: "Second" }, { sender })).toBe(true);

    const files = readdirSync(config.outboxDir);
    expect(files).toHaveLength(2);
    expect(statSync(config.outboxDir).mode & 0o777).toBe(0o700);
    for (const f of files)
      expect(statSync(path.join(config.outboxDir, f)).mode & 0o777).toBe(0o600);
    const mails = await readOutbox(config.outboxDir);
    expect(mails.map((m) => [m.to, m.subject])).toEqual([
      ["ada@example.test", message.subject],
      ["ada@example.test", "Second"],
    ]);
    expect(mails[0]?.text).toContain(message.link);
    expect(mails[0]?.raw).toContain("From: Keyward <keyward@localhost>");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(`link: ${message.link}`);
    expect(lines[0]).toContain(config.outboxDir);
  });
});

describe("SMTP mode (SMTP_URL)", () => {
  let smtp: SmtpCapture;
  beforeAll(async () => {
    smtp = await startSmtpCapture({ user: "mailer", pass: "s3cret-pass" });
  });
  afterAll(async () => {
    await smtp?.close();
  });

  it("sends through the SMTP server named by SMTP_URL, signed in as its user", async () => {
    const config = mailConfigFromEnv({ SMTP_URL: smtp.url, MAIL_FROM: "Ops <ops@corp.test>" });
    const sender = createMailSender(config);
    expect(sender.kind).toBe("smtp");
    expect(await deliverMail(message, { sender })).toBe(true);
    const got = await smtp.waitFor("ada@example.test");
    expect(got).toMatchObject({ subject: message.subject, user: "mailer" });
    expect(got.text).toContain(message.link);
    expect(got.raw).toContain("From: Ops <ops@corp.test>");
    await sender.close?.();
  });

  it("a refused login or a dead server is reported as false, and the log never has the password", async () => {
    const lines: string[] = [];
    const wrong = createMailSender(
      mailConfigFromEnv({ SMTP_URL: `smtp://mailer:wrong-pass@127.0.0.1:${smtp.port}` }),
    );
    expect(await deliverMail(message, { sender: wrong, log: (l) => lines.push(l) })).toBe(false);
    await wrong.close?.();
    const dead = createMailSender(
      mailConfigFromEnv({ SMTP_URL: `smtp://mailer:s3cret-pass@127.0.0.1:${await freePort()}` }),
    );
    expect(await deliverMail(message, { sender: dead, log: (l) => lines.push(l) })).toBe(false);
    await dead.close?.();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/EAUTH|535/);
    expect(lines[1]).toContain("ECONNREFUSED");
    for (const l of lines) {
      expect(l).not.toContain("wrong-pass");
      expect(l).not.toContain("s3cret-pass");
      expect(l).not.toContain(message.link); // the link goes to the recipient only
    }
  });

  it("refuses an SMTP_URL that is not smtp:// or smtps:// without echoing it", () => {
    for (const url of ["http://u:hunter2@mail.test", "mail.test:25", "smtp//u:hunter2@x"]) {
      expect(() => mailConfigFromEnv({ SMTP_URL: url })).toThrow(/SMTP_URL must be smtp:\/\//);
      try {
        mailConfigFromEnv({ SMTP_URL: url });
      } catch (e) {
        expect((e as Error).message).not.toContain("hunter2");
      }
    }
    expect(mailConfigFromEnv({ SMTP_URL: "smtps://u:p@mail.test:465" }).smtpUrl).toBe(
      "smtps://u:p@mail.test:465",
    );
  });
});

describe("links in mail", () => {
  it("use KEYWARD_PUBLIC_URL, else the server's own address, never a request's Host", () => {
    expect(publicUrl("/invite/t", { KEYWARD_PUBLIC_URL: "https://keys.corp.test/ignored" })).toBe(
      "https://keys.corp.test/invite/t",
    );
    expect(publicUrl("/invite/t", { HOST: "127.0.0.1", PORT: "4100" })).toBe(
      "http://127.0.0.1:4100/invite/t",
    );
    expect(publicUrl("/invite/t", { HOST: "0.0.0.0" })).toBe("http://localhost:3000/invite/t");
  });
});
