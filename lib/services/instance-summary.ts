// What the public landing page shows: how many organizations and keys this instance holds.
import { getDb } from "@/lib/db";

export interface InstanceSummary {
  organizations: number;
  activeKeys: number;
  demo: { slug: string; name: string; activeKeys: number } | null;
}

export const DEMO_SLUG = "demo";

export async function getInstanceSummary(): Promise<InstanceSummary> {
  const db = await getDb();
  const [organizations, activeKeys, demo] = await Promise.all([
    db.organization.count(),
    db.apiKey.count({ where: { status: "ACTIVE" } }),
    db.organization.findUnique({
      where: { slug: DEMO_SLUG },
      select: { id: true, slug: true, name: true },
    }),
  ]);
  return {
    organizations,
    activeKeys,
    demo: demo
      ? {
          slug: demo.slug,
          name: demo.name,
          activeKeys: await db.apiKey.count({
            where: { organizationId: demo.id, status: "ACTIVE" },
          }),
        }
      : null,
  };
}
