// Back and forth through the dashboard's cursor-paginated lists (keys, audit log). The lists page
// forward only (a cursor means "the rows after this one"), so the way back travels in the URL:
// `back` holds the cursors of the pages before this one, oldest first, joined with ".". Page 1
// has neither; page 2 has `cursor` only; Previous pops the last cursor of the trail, Next pushes
// the current one. Pure: the pages parse search params with it and build their links from it.

/** At most this many earlier pages are remembered; deeper, the page number becomes unknown. */
export const MAX_TRAIL = 100;

// Cursors are base64url (lib/repositories/shared.ts encodeCursor); anything else is not ours.
const CURSOR = /^[A-Za-z0-9_-]{1,200}$/;
/** `back` when the way back was forgotten (a very deep page): Previous goes to page 1. */
const UNKNOWN = "*";

export interface PagePosition {
  /** Where this page starts (undefined: the first page). */
  cursor?: string;
  /** The cursors of the earlier pages that have one (all but page 1), oldest first. */
  trail: string[];
  /** 1-based; null when the way back is not known (then Previous goes to page 1). */
  page: number | null;
}

/** The start of the list (also where a cursor that turned out not to be valid leads). */
export const FIRST_PAGE: PagePosition = { trail: [], page: 1 };

/** Reads `cursor` and `back` from search params; anything malformed is dropped, not trusted. */
export function parsePagePosition(cursor: unknown, back: unknown): PagePosition {
  const c = typeof cursor === "string" && CURSOR.test(cursor) ? cursor : undefined;
  if (!c) return FIRST_PAGE;
  if (back === undefined || back === "") return { cursor: c, trail: [], page: 2 };
  const parts = typeof back === "string" ? back.split(".") : [];
  if (parts.length > MAX_TRAIL || !parts.every((p) => CURSOR.test(p))) {
    return { cursor: c, trail: [], page: null };
  }
  return { cursor: c, trail: parts, page: parts.length + 2 };
}

function query(cursor: string | undefined, back: string): Record<string, string> {
  if (!cursor) return {};
  return back ? { cursor, back } : { cursor };
}

export interface PageLinks {
  /** Search params of each target, besides the list's own filters; null where there is none. */
  first: Record<string, string> | null;
  previous: Record<string, string> | null;
  next: Record<string, string> | null;
}

/** Where First, Previous and Next lead from `p`, given the list's `nextCursor`. */
export function pageLinks(p: PagePosition, nextCursor: string | null): PageLinks {
  if (!p.cursor) {
    return { first: null, previous: null, next: nextCursor ? query(nextCursor, "") : null };
  }
  const previous = p.page === null ? {} : query(p.trail.at(-1), p.trail.slice(0, -1).join("."));
  let next: Record<string, string> | null = null;
  if (nextCursor) {
    const trail = [...p.trail, p.cursor];
    next = query(
      nextCursor,
      p.page === null || trail.length > MAX_TRAIL ? UNKNOWN : trail.join("."),
    );
  }
  return { first: {}, previous, next };
}
