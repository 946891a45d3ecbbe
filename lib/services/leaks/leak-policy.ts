// An organization's leak policy (Organization.leakAction): what a leak report of one of its keys
// does. Owners change it (the dashboard's Settings); the change is audited as org.updated.
import type { Db } from "@/lib/db";
import { forbidden, notFound } from "@/lib/errors";
import {
  type LeakAction,
  organizationRepository,
} from "@/lib/repositories/organization-repository";
import type { Role } from "@/lib/validation/rules";
import type { Actor } from "../actor";
import { writeAudit } from "../audit";

export async function setLeakPolicy(
  db: Db,
  organizationId: string,
  leakAction: LeakAction,
  actor: Actor,
  role: Role,
): Promise<LeakAction> {
  // Whether a leaked key stops working is the owners' call, not every admin's.
  if (role !== "OWNER") throw forbidden("Only owners change the leak policy.");
  return db.$transaction(async (tx) => {
    const before = await organizationRepository.getById(tx, organizationId);
    if (!before) throw notFound("organization");
    if (before.leakAction === leakAction) return leakAction;
    await organizationRepository.setLeakAction(tx, organizationId, leakAction);
    await writeAudit(tx, actor, {
      organizationId,
      action: "org.updated",
      target: { type: "organization", id: organizationId },
      metadata: { leakAction: { from: before.leakAction, to: leakAction } },
    });
    return leakAction;
  });
}
