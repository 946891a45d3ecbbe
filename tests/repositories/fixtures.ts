// Small builders for repository tests: organizations and keys with real hashes.
import { randomBytes } from "node:crypto";
import type { Tx } from "@/lib/db";
import type { Plan } from "@/lib/db/generated/client";
import { generateKey } from "@/lib/keys";
import { apiKeyRepository, type CreateApiKeyInput } from "@/lib/repositories/api-key-repository";
import { organizationRepository } from "@/lib/repositories/organization-repository";

export const OTHER_UUID = "00000000-0000-4000-8000-000000000000";

export function unique(label = "x"): string {
  return `${label}-${randomBytes(4).toString("hex")}`;
}

export async function makeOrg(db: Tx, opts: { plan?: Plan; name?: string } = {}) {
  const name = opts.name ?? unique("Org");
  return organizationRepository.create(db, {
    name,
    email: `${unique("owner")}@example.com`,
    plan: opts.plan,
  });
}

export async function makeKey(
  db: Tx,
  organizationId: string,
  opts: Partial<Omit<CreateApiKeyInput, "organizationId" | "keyHash" | "prefix" | "hint">> = {},
) {
  const g = generateKey(opts.environment === "TEST" ? "test" : "live");
  const key = await apiKeyRepository.create(db, {
    organizationId,
    name: opts.name ?? unique("key"),
    keyHash: g.hash,
    prefix: g.prefix,
    hint: g.hint,
    environment: opts.environment ?? "LIVE",
    scopes: opts.scopes,
    expiresAt: opts.expiresAt,
    rateLimitPerMinute: opts.rateLimitPerMinute,
    createdBy: opts.createdBy,
    metadata: opts.metadata,
  });
  return { key, plaintext: g.key, hash: g.hash };
}

/** Collects every item by following nextCursor. */
export async function allPages<T>(
  fetch: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>,
): Promise<{ items: T[]; pages: number[] }> {
  const items: T[] = [];
  const pages: number[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const page = await fetch(cursor);
    items.push(...page.items);
    pages.push(page.items.length);
    if (!page.nextCursor) return { items, pages };
    cursor = page.nextCursor;
  }
  throw new Error("pagination did not end");
}
