// Rows a rate-limit or usage test needs as foreign-key targets: an organization and keys.
import { randomBytes, randomUUID } from "node:crypto";
import type { Tx } from "@/lib/db";

export async function createOrganization(db: Tx): Promise<string> {
  const slug = `org-${randomBytes(5).toString("hex")}`;
  const org = await db.organization.create({
    data: {
      name: slug,
      slug,
      email: `${slug}@example.test`,
      rateLimitPerMinute: 60,
      monthlyQuota: 10_000,
      maxActiveKeys: 5,
    },
  });
  return org.id;
}

export async function createApiKeyRow(db: Tx, organizationId: string): Promise<string> {
  const key = await db.apiKey.create({
    data: {
      id: randomUUID(),
      organizationId,
      name: "test key",
      keyHash: randomBytes(32).toString("hex"),
      prefix: "pk_test_",
      hint: "abcd",
      environment: "TEST",
    },
  });
  return key.id;
}
