// Who did something: written into every audit row a service produces.
export type ActorType = "user" | "key" | "cli" | "system";

export interface Actor {
  type: ActorType;
  id?: string;
  ip?: string;
}

export const systemActor: Actor = { type: "system" };

export const keyActor = (keyId: string, ip?: string): Actor => ({ type: "key", id: keyId, ip });
export const userActor = (userId: string, ip?: string): Actor => ({ type: "user", id: userId, ip });

/** "key:<id>" / "user:<id>" / "cli" — the compact form stored in createdBy / revokedBy. */
export function actorLabel(actor: Actor): string {
  return actor.id ? `${actor.type}:${actor.id}` : actor.type;
}
