// PRODUCT.md section 8, "one tenant never stops another's metering": organization A sends
// poison (refused at the edge, or, straight into the recorder, rows the database itself
// refuses) interleaved with 10,000 good events of organization B. Every good event lands, each
// bad one is refused at the edge or dropped alone, and the answer, the tables and the recorder's
// counts agree.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationRepository } from "@/lib/repositories/organization-repository";
import type { Actor } from "@/lib/services/actor";
import { createKey } from "@/lib/services/keys";
import { acceptUsageEvents } from "@/lib/services/usage-intake";
import { UsageRecorder } from "@/lib/services/usage-recorder";
import type { UsageEvent } from "@/lib/usage/event";
import {
  MAX_EVENT_COST_USD,
  MAX_EVENT_RESPONSE_TIME_MS,
  MAX_EVENT_TOKENS,
} from "@/lib/validation/usage";
import { createTestDatabase, type TestDatabase, testDbKinds } from "@/tests/helpers/db";

const actor: Actor = { type: "system", id: "metering-isolation-test" };
const DAY_MS = 86_400_000;

describe.each(testDbKinds)("metering isolation (%s)", (kind) => {
  let db: TestDatabase;
  let orgA: string;
  let orgB: string;
  let keyA: { id: string; organizationId: string };
  let keyB: { id: string; organizationId: string };
  let doomedA: { id: string; organizationId: string };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const stamp = Date.now();
    const mkOrg = (name: string) =>
      organizationRepository.create(db.prisma, {
        name: `${name} ${stamp}`,
        email: `${name.toLowerCase()}-${stamp}@example.test`,
        plan: "ENTERPRISE",
      });
    orgA = (await mkOrg("Poison")).id;
    orgB = (await mkOrg("Bystander")).id;
    const mkKey = async (organizationId: string, name: string) => {
      const r = await createKey(
        db.prisma,
        { organizationId, name, environment: "live", scopes: ["usage:write"] },
        actor,
      );
      return { id: r.apiKey.id, organizationId };
    };
    keyA = await mkKey(orgA, "a");
    doomedA = await mkKey(orgA, "a-doomed");
    keyB = await mkKey(orgB, "b");
  });
  afterAll(() => db?.close());

  it("A's poison is refused at the edge or dropped alone; all of B's 10,000 events land", async () => {
    const now = Date.now();
    // A day of A's whose organization rollup already holds almost all that Decimal(20,6) can
    // (reaching it for real takes a million events at the largest cost the raw column holds).
    const fullDay = new Date(Math.floor(now / DAY_MS) * DAY_MS - 2 * DAY_MS + 3_600_000);
    const logs: string[] = [];
    const recorder = new UsageRecorder({
      db: db.prisma,
      flushIntervalMs: 0,
      batchSize: kind === "postgres" ? 5_000 : 500,
      log: (m) => logs.push(m),
    });
    const record = (e: UsageEvent) => recorder.record(e);
    recorder.record({ ...direct(keyA, 0), createdAt: fullDay });
    await recorder.flush();
    await db.prisma.$executeRaw`
      UPDATE "UsageRollup" SET "costUsd" = 99999999999999
      WHERE "organizationId" = ${orgA}::uuid AND granularity = 'DAY' AND level = 'ORGANIZATION'`;

    // A's requests through the edge: good events interleaved with each bound exceeded by one.
    const good = (i: number) => ({
      endpoint: "/v1/a",
      method: "POST",
      statusCode: 200,
      responseTimeMs: 7,
      tokens: 11,
      costUsd: "0.000001",
      occurredAt: new Date(now - i).toISOString(),
    });
    const poison: [string, unknown][] = [
      ["endpoint", { ...good(0), endpoint: "/a\u0000b" }],
      ["endpoint", { ...good(0), endpoint: "/a\u0007b" }],
      ["endpoint", { ...good(0), endpoint: "/a\uD800b" }],
      ["endpoint", { ...good(0), endpoint: `/${"x".repeat(200)}` }],
      ["endpoint", { ...good(0), endpoint: "" }],
      ["method", { ...good(0), method: "GE\u0000T" }],
      ["method", { ...good(0), method: "GETTINGLONG" }],
      ["statusCode", { ...good(0), statusCode: 600 }],
      ["responseTimeMs", { ...good(0), responseTimeMs: MAX_EVENT_RESPONSE_TIME_MS + 1 }],
      ["responseTimeMs", { ...good(0), responseTimeMs: -1 }],
      ["tokens", { ...good(0), tokens: MAX_EVENT_TOKENS + 1 }],
      ["costUsd", { ...good(0), costUsd: `${MAX_EVENT_COST_USD}.000001` }],
      ["costUsd", { ...good(0), costUsd: "99999999.999999" }],
      ["costUsd", { ...good(0), costUsd: "1e2" }],
      ["occurredAt", { ...good(0), occurredAt: new Date(now + 3_600_000).toISOString() }],
      ["", "not an event"],
    ];
    const bodyA: unknown[] = [];
    const poisonAt: number[] = [];
    for (let i = 0; i < 100; i++) {
      bodyA.push(good(i));
      if (i < poison.length) {
        poisonAt.push(bodyA.length);
        bodyA.push(poison[i]?.[1]);
      }
    }
    // At the edge's very bounds every event is accepted.
    bodyA.push({
      ...good(0),
      responseTimeMs: MAX_EVENT_RESPONSE_TIME_MS,
      tokens: MAX_EVENT_TOKENS,
      costUsd: `${MAX_EVENT_COST_USD}.000000`,
    });
    let goodA = 101;

    // Straight into the recorder (past the edge): rows the database itself refuses, and values
    // from request headers, which are made storable rather than refused.
    const dbRefused = { invalid_text: 0, out_of_range: 0, orphaned: 0 };
    const straight: UsageEvent[] = [
      { ...direct(keyA, 1), endpoint: "/a\u0000b" },
      { ...direct(keyA, 2), errorCode: "E\u0000", statusCode: 500 },
      { ...direct(keyA, 3), errorMessage: "boom\u0000", statusCode: 502 },
      { ...direct(keyA, 4), method: "P\u0000ST" },
      { ...direct(keyA, 5), costUsd: "5", createdAt: fullDay },
      { ...direct(keyA, 6), costUsd: "99999999.999999", createdAt: fullDay },
      { ...direct(doomedA, 7) },
    ];
    dbRefused.invalid_text = 4;
    dbRefused.out_of_range = 2;
    dbRefused.orphaned = 1;
    const storableA: UsageEvent[] = [
      { ...direct(keyA, 8), userAgent: "agent\u0000\uD800", ipAddress: "203.0.113.9\u0000" },
      { ...direct(keyA, 9), createdAt: fullDay }, // no cost: the full day still takes it
    ];
    goodA += storableA.length;

    // B: 10,000 good events in ten requests, A's traffic between them, all in one recorder.
    const answersA = [];
    let acceptedB = 0;
    let costMicrosB = 0;
    for (let r = 0; r < 10; r++) {
      const bodyB = Array.from({ length: 1_000 }, (_, i) => {
        const n = r * 1_000 + i;
        costMicrosB += n % 7;
        return {
          endpoint: n % 2 ? "/v1/b/chat" : "/v1/b/embed",
          method: "POST",
          statusCode: n % 20 === 0 ? 500 : 200,
          responseTimeMs: n % 300,
          tokens: n % 13,
          costUsd: `0.00000${n % 7}`,
          occurredAt: new Date(now - n).toISOString(),
        };
      });
      const answerB = acceptUsageEvents(bodyB, keyB, record, now);
      expect(answerB).toEqual({ accepted: 1_000, refused: [] });
      acceptedB += answerB.accepted;
      if (r === 2) answersA.push(acceptUsageEvents(bodyA, keyA, record, now));
      if (r === 4) for (const e of straight) expect(recorder.record(e)).toBe(true);
      if (r === 6) for (const e of storableA) expect(recorder.record(e)).toBe(true);
      if (r === 7) await db.prisma.apiKey.delete({ where: { id: doomedA.id } });
    }
    await recorder.flush();

    // The answer to A: every poison event refused by index, naming its field; the rest accepted.
    const [answerA] = answersA;
    expect(answerA?.accepted).toBe(101);
    expect(answerA?.refused.map((x) => x.index)).toEqual(poisonAt);
    answerA?.refused.forEach((x, i) => {
      expect(x.code).toBe("VALIDATION_FAILED");
      const field = poison[i]?.[0];
      expect(x.issues.map((s) => s.path)).toContain(`events.${x.index}${field ? `.${field}` : ""}`);
    });

    // The recorder: B's and A's good events written, A's bad ones dropped alone, by reason.
    const s = recorder.stats();
    expect(acceptedB).toBe(10_000);
    expect(s).toMatchObject({
      pending: 0,
      written: 1 + 10_000 + goodA,
      failedFlushes: 0,
      orphaned: 1,
      droppedByReason: { ...dbRefused, rejected: 0, malformed: 0, buffer_full: 0, shutdown: 0 },
    });

    // The tables agree: raw rows, keys' counters, rollups.
    const count = (apiKeyId: string) => db.prisma.apiKeyUsage.count({ where: { apiKeyId } });
    expect(await count(keyB.id)).toBe(10_000);
    expect(await count(keyA.id)).toBe(1 + goodA);
    expect(await count(doomedA.id)).toBe(0);
    const keyRow = (id: string) => db.prisma.apiKey.findUniqueOrThrow({ where: { id } });
    expect((await keyRow(keyB.id)).requestCount).toBe(10_000n);
    expect((await keyRow(keyA.id)).requestCount).toBe(BigInt(1 + goodA));
    const rolled = async (organizationId: string) => {
      const g = await db.prisma.usageRollup.aggregate({
        where: { organizationId, granularity: "DAY", level: "ORGANIZATION" },
        _sum: { requests: true, tokens: true, costUsd: true },
      });
      const h = await db.prisma.usageRollup.aggregate({
        where: { organizationId, granularity: "HOUR", level: "KEY" },
        _sum: { requests: true },
      });
      return { day: g._sum, hourByKey: h._sum.requests };
    };
    const b = await rolled(orgB);
    expect(b.day.requests).toBe(10_000n);
    expect(b.hourByKey).toBe(10_000n);
    const raw = await db.prisma.apiKeyUsage.aggregate({
      where: { organizationId: orgB },
      _sum: { tokens: true, costUsd: true },
    });
    expect(b.day.tokens).toBe(BigInt(raw._sum.tokens ?? -1));
    expect(b.day.costUsd?.toString()).toBe(raw._sum.costUsd?.toString());
    expect(Number(b.day.costUsd)).toBeCloseTo(costMicrosB / 1e6, 6);
    const a = await rolled(orgA);
    expect(a.day.requests).toBe(BigInt(1 + goodA));
    expect(a.hourByKey).toBe(BigInt(1 + goodA));

    // Header values were made storable, not refused.
    const stored = await db.prisma.apiKeyUsage.findFirstOrThrow({
      where: { apiKeyId: keyA.id, userAgent: { startsWith: "agent" } },
    });
    expect(stored.userAgent).toBe("agent\uFFFD\uFFFD");
    expect(stored.ipAddress).toBe("203.0.113.9\uFFFD");

    // One log line per organization, key and reason; B is never named; no event contents.
    const text = logs.join("\n");
    expect(text).toContain(`organization ${orgA} key ${keyA.id} (invalid_text)`);
    expect(text).toContain(`organization ${orgA} key ${keyA.id} (out_of_range)`);
    expect(text).toContain(`organization ${orgA} key ${doomedA.id} (orphaned)`);
    expect(text).not.toContain(orgB);
    expect(text).not.toContain("boom");
    expect(text).not.toContain("\u0000");
    expect(text).not.toMatch(/retry in/);
    await recorder.close();
  }, 120_000);
});

/** An event as the route core meters it: no edge in between. */
function direct(key: { id: string; organizationId: string }, i: number): UsageEvent {
  return {
    apiKeyId: key.id,
    organizationId: key.organizationId,
    endpoint: "/v1/direct",
    method: "GET",
    statusCode: 200,
    responseTimeMs: 3,
    tokens: 1,
    createdAt: new Date(Date.now() - 1_000 - i),
  };
}
