import type { Tx } from "@/lib/db";
import type { EmailVerification } from "@/lib/db/generated/client";
import { normalizeEmail, scopeId } from "./shared";

export type { EmailVerification };

export const emailVerificationRepository = {
  async create(
    db: Tx,
    input: { userId: string; email: string; tokenHash: string; expiresAt: Date },
  ): Promise<EmailVerification> {
    scopeId(input.userId, "userId");
    return db.emailVerification.create({
      data: { ...input, email: normalizeEmail(input.email) },
    });
  },

  async getByTokenHash(db: Tx, tokenHash: string): Promise<EmailVerification | null> {
    return db.emailVerification.findUnique({ where: { tokenHash } });
  },

  /** Marks the token used; false when it was used already (a second use, or a race). */
  async markUsed(db: Tx, id: string, at: Date): Promise<boolean> {
    if (!scopeId(id)) return false;
    const { count } = await db.emailVerification.updateMany({
      where: { id, usedAt: null },
      data: { usedAt: at },
    });
    return count === 1;
  },

  /** Voids the user's unused tokens (a new link replaces older ones). */
  async voidUnused(db: Tx, userId: string, at: Date): Promise<number> {
    if (!scopeId(userId, "userId")) return 0;
    const { count } = await db.emailVerification.updateMany({
      where: { userId, usedAt: null },
      data: { usedAt: at },
    });
    return count;
  },
};
