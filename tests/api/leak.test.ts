// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are checked field by field
// Leak reports over real HTTP against the real server (PRODUCT.md section 12): the public report
// under each leak policy, unknown keys answered identically, malformed bodies, the per-address
// limit; GitHub secret scanning payloads signed with P-256 keys made here (valid, wrong key id,
// tampered body, missing headers, a replay), answered in GitHub's format.
import { createHash, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/lib/db";
import { generateKey } from "@/lib/keys";
import { membershipRepository } from "@/lib/repositories/membership-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import { userRepository } from "@/lib/repositories/user-repository";
import type { Actor } from "@/lib/services/actor";
import { createKey } from "@/lib/services/keys";
import { readOutbox } from "@/tests/helpers/mail";
import { migratedDataDir, startServer, type TestServer } from "@/tests/helpers/server";

const actor: Actor = { type: "system", id: "leak-api-tests" };
const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

type Org = {
  id: string;
  owner: string;
  admin: string;
  reader: string;
  targets: Record<string, { key: string; id: string }>;
};

const gh1 = generateKeyPairSync("ec", { namedCurve: "P-256" });
const gh2 = generateKeyPairSync("ec", { namedCurve: "P-256" });
const GITHUB_KEYS = JSON.stringify({
  public_keys: [
    {
      key_identifier: "kid-current",
      key: gh1.publicKey.export({ type: "spki", format: "pem" }),
      is_current: true,
    },
    {
      key_identifier: "kid-old",
      key: gh2.publicKey.export({ type: "spki", format: "pem" }),
      is_current: false,
    },
  ],
});

let server: TestServer;
let dataDir: string;
let revokeOrg: Org;
let notifyOrg: Org;

async function seed(): Promise<void> {
  const open = await openDatabase({ kind: "pglite", dataDir }, { shortLived: true });
  const db = open.prisma;
  const mkOrg = async (name: string, leakAction: "REVOKE" | "NOTIFY", targets: string[]) => {
    const o = await organizationRepository.create(db, {
      name: `${name} ${stamp}`,
      email: `${name.toLowerCase()}-${stamp}@example.test`,
      maxActiveKeys: 100,
    });
    if (leakAction !== "REVOKE") await organizationRepository.setLeakAction(db, o.id, leakAction);
    const emails: string[] = [];
    for (const role of ["OWNER", "ADMIN", "VIEWER"] as const) {
      const u = await userRepository.create(db, {
        email: `${name.toLowerCase()}-${role.toLowerCase()}-${stamp}@example.test`,
      });
      await membershipRepository.add(db, { organizationId: o.id, userId: u.id, role });
      emails.push(u.email);
    }
    const mk = async (keyName: string, scopes: string[] = []) => {
      const r = await createKey(
        db,
        { organizationId: o.id, name: keyName, environment: "live", scopes },
        actor,
      );
      return { key: r.key, id: r.apiKey.id };
    };
    const reader = await mk("reader", ["keys:read"]);
    const t: Org["targets"] = {};
    for (const n of targets) t[n] = await mk(n);
    return { id: o.id, owner: emails[0]!, admin: emails[1]!, reader: reader.key, targets: t };
  };
  revokeOrg = await mkOrg("Revoke", "REVOKE", ["reported", "github", "replayed"]);
  notifyOrg = await mkOrg("Notify", "NOTIFY", ["reported"]);
  await open.close();
}

beforeAll(async () => {
  dataDir = await migratedDataDir();
  await seed();
  server = await startServer({
    dataDir,
    env: { KEYWARD_TRUST_PROXY: "1", KEYWARD_GITHUB_SECRET_SCANNING_KEYS: GITHUB_KEYS },
  });
  // A stale build is rebuilt first: minutes on a loaded machine.
}, 1_800_000);
afterAll(async () => {
  await server?.stop();
});

let addressN = 0;
/** A client address of its own per call site, so the per-address limit stays out of the way. */
const address = () => `198.51.100.${++addressN}`;

async function call(
  method: string,
  p: string,
  o: { key?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.key) headers.authorization = `Bearer ${o.key}`;
  let body = o.raw;
  if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(server.url + p, { method, headers, body });
  const text = await res.text();
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed, text };
}

const report = (body: unknown, ip = address()) =>
  call("POST", "/api/v1/keys/leaked", { body, headers: { "x-forwarded-for": ip } });

const problem = (
  r: { status: number; headers: Headers; body: any },
  status: number,
  code: string,
) => {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get("content-type")).toContain("application/problem+json");
  expect(r.body).toMatchObject({ status, code });
};

/** The key as its organization's reader sees it, once `until` holds (reports apply after the answer). */
async function keyWhen(org: Org, id: string, until: (k: any) => boolean): Promise<any> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await call("GET", `/api/v1/keys/${id}`, { key: org.reader });
    expect(r.status).toBe(200);
    if (until(r.body)) return r.body;
    if (Date.now() > deadline) throw new Error(`key never got there: ${r.text}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function mailAbout(hint: string) {
  return (await readOutbox(path.join(dataDir, "outbox"))).filter((m) => m.subject.includes(hint));
}

async function mailsWhen(hint: string, count: number) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = await mailAbout(hint);
    if (m.length >= count || Date.now() > deadline) return m;
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe("POST /api/v1/keys/leaked", () => {
  let realAnswer: { status: number; text: string };

  it("revokes a real key under REVOKE, records where it was seen and mails owners and admins", async () => {
    const target = revokeOrg.targets.reported!;
    const r = await report({
      key: target.key,
      source: "pastebin",
      url: "https://paste.example/x1",
    });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ status: "received", message: expect.any(String) });
    realAnswer = r;
    const k = await keyWhen(revokeOrg, target.id, (k) => k.status === "revoked");
    expect(k.revokedReason).toBe("reported leaked");
    expect(k.leak).toMatchObject({ source: "pastebin", url: "https://paste.example/x1" });
    const v = await call("POST", "/api/v1/keys/verify", { body: { key: target.key } });
    expect(v.body.code).toBe("REVOKED");
    const mails = await mailsWhen(target.key.slice(-4), 2);
    expect(mails.map((m) => m.to).sort()).toEqual([revokeOrg.admin, revokeOrg.owner].sort());
    for (const m of mails) expect(m.raw).not.toContain(target.key);
  });

  it("only flags a real key under NOTIFY: it keeps working", async () => {
    const target = notifyOrg.targets.reported!;
    const r = await report({ key: target.key, source: "gist" });
    expect(r.status).toBe(202);
    const k = await keyWhen(notifyOrg, target.id, (k) => k.leak !== null);
    expect(k.status).toBe("active");
    expect(k.leak).toMatchObject({ source: "gist", url: null });
    const v = await call("POST", "/api/v1/keys/verify", { body: { key: target.key } });
    expect(v.body).toMatchObject({ valid: true, code: "VALID" });
    expect((await mailsWhen(target.key.slice(-4), 2)).map((m) => m.to).sort()).toEqual(
      [notifyOrg.admin, notifyOrg.owner].sort(),
    );
  });

  it("answers an unknown key, a look-alike and a non-key exactly like a real one", async () => {
    const real = generateKey("live").key;
    const lookAlike = real.slice(0, -1) + (real.endsWith("A") ? "E" : "A");
    for (const key of [real, lookAlike, "hello", revokeOrg.targets.reported!.key]) {
      const r = await report({ key, source: "pastebin", url: "https://paste.example/x1" });
      expect(r.status).toBe(realAnswer.status);
      expect(r.text).toBe(realAnswer.text);
      expect(r.headers.get("content-type")).toBe("application/json");
    }
  });

  it("refuses malformed bodies with problem+json", async () => {
    problem(await report({}), 422, "VALIDATION_FAILED");
    problem(await report({ key: 42 }), 422, "VALIDATION_FAILED");
    problem(await report({ key: "x".repeat(257) }), 422, "VALIDATION_FAILED");
    problem(await report({ key: "k", url: "javascript:alert(1)" }), 422, "VALIDATION_FAILED");
    problem(await report({ key: "k", source: "a\u0000b" }), 422, "VALIDATION_FAILED");
    const notJson = await call("POST", "/api/v1/keys/leaked", {
      raw: "{nope",
      headers: { "content-type": "application/json", "x-forwarded-for": address() },
    });
    problem(notJson, 400, "INVALID_JSON");
  });

  it("limits reports per client address", async () => {
    const ip = address();
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await report({ key: `k${i}` }, ip)).status);
    expect(statuses.slice(0, 30).every((s) => s === 202)).toBe(true);
    const last = await report({ key: "one more" }, ip);
    problem(last, 429, "RATE_LIMITED");
    expect(Number(last.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await report({ key: "another address" })).status).toBe(202);
  });
});

describe("POST /api/v1/secret-scanning/github", () => {
  const signed = (body: string, key: KeyObject) =>
    sign("sha256", Buffer.from(body), { key, dsaEncoding: "der" }).toString("base64");
  const send = (body: string, keyId: string | null, signature: string | null) =>
    call("POST", "/api/v1/secret-scanning/github", {
      raw: body,
      headers: {
        "content-type": "application/json",
        ...(keyId ? { "github-public-key-identifier": keyId } : {}),
        ...(signature ? { "github-public-key-signature": signature } : {}),
      },
    });
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");

  it("applies the policy to a signed alert and labels each token in GitHub's format", async () => {
    const target = revokeOrg.targets.github!;
    const unknown = generateKey("test").key;
    const body = JSON.stringify([
      {
        token: target.key,
        type: "keyward_api_key",
        url: "https://github.com/acme/app/blob/abc/.env",
        source: "content",
      },
      { token: unknown, type: "keyward_api_key", url: "https://github.com/x", source: "commit" },
    ]);
    const r = await send(body, "kid-current", signed(body, gh1.privateKey));
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual([
      { token_hash: sha(target.key), token_type: "keyward_api_key", label: "true_positive" },
      { token_hash: sha(unknown), token_type: "keyward_api_key", label: "false_positive" },
    ]);
    const k = await keyWhen(revokeOrg, target.id, (k) => k.status === "revoked");
    expect(k.leak).toMatchObject({
      source: "github:content",
      url: "https://github.com/acme/app/blob/abc/.env",
    });
    // Signed by the older key, named as such: also accepted.
    const again = JSON.stringify([{ token: unknown, type: "keyward_api_key" }]);
    expect((await send(again, "kid-old", signed(again, gh2.privateKey))).status).toBe(200);
  });

  it("refuses a wrong key id, a tampered body and missing headers", async () => {
    const body = JSON.stringify([
      { token: revokeOrg.targets.replayed!.key, type: "keyward_api_key" },
    ]);
    const good = signed(body, gh1.privateKey);
    problem(await send(body, "kid-old", good), 401, "SIGNATURE_INVALID");
    problem(await send(body, "kid-unknown", good), 401, "SIGNATURE_INVALID");
    problem(
      await send(body.replace("keyward_api_key", "keyward_api_kez"), "kid-current", good),
      401,
      "SIGNATURE_INVALID",
    );
    problem(await send(body, "kid-current", "bm90IGEgc2lnbmF0dXJl"), 401, "SIGNATURE_INVALID");
    problem(await send(body, "kid-current", null), 400, "BAD_REQUEST");
    problem(await send(body, null, good), 400, "BAD_REQUEST");
    // Nothing was applied by any of them.
    const k = await call("GET", `/api/v1/keys/${revokeOrg.targets.replayed!.id}`, {
      key: revokeOrg.reader,
    });
    expect(k.body).toMatchObject({ status: "active", leak: null });
    // A signed body that is not a list of alerts.
    const bad = JSON.stringify({ token: "x" });
    problem(await send(bad, "kid-current", signed(bad, gh1.privateKey)), 422, "VALIDATION_FAILED");
  });

  it("processes a replayed payload once: same answer, no second revocation or mail", async () => {
    const target = revokeOrg.targets.replayed!;
    const body = JSON.stringify([
      {
        token: target.key,
        type: "keyward_api_key",
        url: "https://github.com/a/b",
        source: "commit",
      },
    ]);
    const signature = signed(body, gh1.privateKey);
    const first = await send(body, "kid-current", signature);
    expect(first.status).toBe(200);
    const k1 = await keyWhen(revokeOrg, target.id, (k) => k.status === "revoked");
    const mails = await mailsWhen(target.key.slice(-4), 2);
    expect(mails).toHaveLength(2);
    const replay = await send(body, "kid-current", signature);
    expect(replay.status).toBe(200);
    expect(replay.text).toBe(first.text);
    const k2 = await keyWhen(revokeOrg, target.id, () => true);
    expect(k2.leak).toEqual(k1.leak);
    expect(k2.revokedAt).toBe(k1.revokedAt);
    await new Promise((res) => setTimeout(res, 500));
    expect(await mailAbout(target.key.slice(-4))).toHaveLength(2);
  });
});
