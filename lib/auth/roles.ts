// Dashboard roles, ordered: VIEWER sees, ADMIN and OWNER change. The list is lib/validation's.
import type { Role } from "@/lib/validation/rules";

export type { Role };

const RANK: Record<Role, number> = { VIEWER: 1, ADMIN: 2, OWNER: 3 };

export function hasRole(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

export const canManage = (role: Role) => hasRole(role, "ADMIN");
