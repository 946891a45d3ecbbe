// Dashboard roles, ordered: VIEWER sees, ADMIN and OWNER change.
export type Role = "OWNER" | "ADMIN" | "VIEWER";

export const ROLES: readonly Role[] = ["OWNER", "ADMIN", "VIEWER"];
const RANK: Record<Role, number> = { VIEWER: 1, ADMIN: 2, OWNER: 3 };

export function hasRole(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

export const canManage = (role: Role) => hasRole(role, "ADMIN");
