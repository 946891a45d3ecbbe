// What every repository shares: id guards, keyset pagination and Prisma error checks.
import { Prisma } from "@/lib/db";
import { badRequest } from "@/lib/errors";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export interface PageOptions {
  /** 1..200, default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string | null;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/**
 * Guards an id that scopes a query. A missing id is a programming error and throws, so an
 * `undefined` can never reach a Prisma `where` and silently drop the filter. A string that is not
 * a uuid cannot match any row: callers answer "not found" for it (`false` here).
 */
export function scopeId(value: unknown, name = "id"): boolean {
  if (typeof value !== "string" || value.length === 0) {
    throw new TypeError(`${name} is required`);
  }
  return isUuid(value);
}

export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(limit)));
}

export interface KeysetPosition {
  createdAt: Date;
  id: string;
}

/** An opaque cursor for lists ordered by (createdAt desc, id desc). */
export function encodeCursor(row: KeysetPosition): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): KeysetPosition {
  const [at, id, extra] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const createdAt = new Date(at ?? "");
  if (extra !== undefined || !isUuid(id) || Number.isNaN(createdAt.getTime())) {
    throw badRequest("The cursor is not valid.", [{ path: "cursor", message: "Invalid cursor" }]);
  }
  return { createdAt, id };
}

/** The `where` part that starts a (createdAt desc, id desc) page after the cursor. */
export function afterCursor(cursor: string | null | undefined) {
  if (!cursor) return {};
  const c = decodeCursor(cursor);
  return {
    OR: [{ createdAt: { lt: c.createdAt } }, { createdAt: c.createdAt, id: { lt: c.id } }],
  };
}

export const newestFirst = [{ createdAt: "desc" as const }, { id: "desc" as const }];

/** Rows fetched with `take: size + 1` become a page and the cursor of its last item. */
export function toPage<T extends KeysetPosition, U = T>(
  rows: T[],
  size: number,
  map?: (row: T) => U,
): Page<U> {
  const more = rows.length > size;
  const items = more ? rows.slice(0, size) : rows;
  const last = items.at(-1);
  return {
    items: map ? items.map(map) : (items as unknown as U[]),
    nextCursor: more && last ? encodeCursor(last) : null,
  };
}

export function isNotFoundError(e: unknown): boolean {
  return e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2025";
}

export function isUniqueViolation(e: unknown): boolean {
  return e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002";
}

/** Runs a single-row write; a missing row answers null instead of throwing P2025. */
export async function orNull<T>(write: Promise<T>): Promise<T | null> {
  try {
    return await write;
  } catch (e) {
    if (isNotFoundError(e)) return null;
    throw e;
  }
}

/** Emails compare case-insensitively: stored and looked up trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** A Date parameter as a SQL timestamp (the columns are `timestamp(3)`, UTC). */
export function ts(date: Date): Prisma.Sql {
  return Prisma.sql`${date}::timestamp(3)`;
}

/** BigInt/number/null counts from SQL as a JavaScript number. */
export function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : Number(value);
}

/** Decimal from Prisma as a fixed six-decimal string, e.g. "0.012500". */
export function money(value: { toFixed(dp: number): string } | string | number | null): string {
  if (value === null) return "0.000000";
  if (typeof value === "string") return new Prisma.Decimal(value).toFixed(6);
  if (typeof value === "number") return new Prisma.Decimal(value).toFixed(6);
  return value.toFixed(6);
}
