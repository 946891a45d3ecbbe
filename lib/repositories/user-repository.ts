import type { Tx } from "@/lib/db";
import type { User } from "@/lib/db/generated/client";
import { normalizeEmail, scopeId } from "./shared";

export type { User };

export interface CreateUserInput {
  email: string;
  name?: string | null;
  /** Already hashed (argon2, by the auth layer). This repository never hashes. */
  passwordHash?: string | null;
  image?: string | null;
  emailVerified?: Date | null;
}

/** A user without the password hash: what may leave the auth layer. */
export type PublicUser = Omit<User, "passwordHash">;

export const publicUserSelect = {
  id: true,
  name: true,
  email: true,
  emailVerified: true,
  image: true,
  createdAt: true,
  updatedAt: true,
} as const;

export const userRepository = {
  async create(db: Tx, input: CreateUserInput): Promise<User> {
    return db.user.create({
      data: {
        email: normalizeEmail(input.email),
        name: input.name ?? null,
        passwordHash: input.passwordHash ?? null,
        image: input.image ?? null,
        emailVerified: input.emailVerified ?? null,
      },
    });
  },

  /** Includes the password hash, for sign-in. */
  async getByEmail(db: Tx, email: string): Promise<User | null> {
    if (typeof email !== "string" || email.length === 0) return null;
    return db.user.findUnique({ where: { email: normalizeEmail(email) } });
  },

  async getById(db: Tx, id: string): Promise<PublicUser | null> {
    if (!scopeId(id, "userId")) return null;
    return db.user.findUnique({ where: { id }, select: publicUserSelect });
  },

  async markEmailVerified(db: Tx, id: string, at: Date): Promise<boolean> {
    if (!scopeId(id, "userId")) return false;
    const { count } = await db.user.updateMany({ where: { id }, data: { emailVerified: at } });
    return count === 1;
  },

  /**
   * Marks the email verified and drops the password: for an account whose email an OAuth
   * provider just proved, when nobody had proved it before, so whoever set that password (maybe
   * not the mailbox's owner) cannot sign in with it.
   */
  async claimUnverified(db: Tx, id: string, at: Date): Promise<boolean> {
    if (!scopeId(id, "userId")) return false;
    const { count } = await db.user.updateMany({
      where: { id, emailVerified: null },
      data: { emailVerified: at, passwordHash: null },
    });
    return count === 1;
  },
};
