import { describe, expect, it } from "vitest";
import { createSignInThrottle, memoryFailureStore } from "./sign-in-throttle";

function fresh() {
  return createSignInThrottle(memoryFailureStore(), {
    perEmail: { limit: 3, windowMs: 60_000 },
    perAddress: { limit: 5, windowMs: 60_000 },
  });
}

describe("sign-in throttle", () => {
  it("refuses an email after its failures reach the limit, with a retry time", async () => {
    const t = fresh();
    const email = `a-${crypto.randomUUID()}@x.test`;
    for (let i = 0; i < 3; i++) {
      expect((await t.check(email, "10.0.0.1", 1000 + i)).allowed).toBe(true);
      await t.recordFailure(email, `10.0.0.${i + 10}`, 1000 + i);
    }
    const d = await t.check(email, "10.0.0.99", 2000);
    expect(d.allowed).toBe(false);
    expect(d.retryAfter).toBe(59);
    // The window slides: once the failures are older than the window, allowed again.
    expect((await t.check(email, "10.0.0.99", 1000 + 60_001)).allowed).toBe(true);
  });

  it("refuses an address that fails across many emails, and is case-insensitive for emails", async () => {
    const t = fresh();
    const ip = `192.0.2.${Math.floor(Math.random() * 200)}`;
    for (let i = 0; i < 5; i++) await t.recordFailure(`u${i}-${ip}@x.test`, ip, 10);
    expect((await t.check("someone-else@x.test", ip, 20)).allowed).toBe(false);
    expect((await t.check("someone-else@x.test", "198.51.100.1", 20)).allowed).toBe(true);

    const email = `Mixed-${crypto.randomUUID()}@X.test`;
    for (let i = 0; i < 3; i++) await t.recordFailure(email.toUpperCase(), `203.0.113.${i}`, 10);
    expect((await t.check(email.toLowerCase(), "203.0.113.50", 20)).allowed).toBe(false);
  });

  it("a success clears the email's failures", async () => {
    const t = fresh();
    const email = `s-${crypto.randomUUID()}@x.test`;
    for (let i = 0; i < 3; i++) await t.recordFailure(email, `203.0.114.${i}`, 10);
    await t.recordSuccess(email);
    expect((await t.check(email, "203.0.114.77", 20)).allowed).toBe(true);
  });
});
