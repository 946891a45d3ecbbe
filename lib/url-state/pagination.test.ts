import { describe, expect, it } from "vitest";
import { MAX_TRAIL, pageLinks, parsePagePosition } from "./pagination";

/** Follows a link's search params the way the page would read them. */
const follow = (q: Record<string, string> | null) => {
  expect(q).not.toBeNull();
  return parsePagePosition(q?.cursor, q?.back);
};

describe("dashboard cursor pagination", () => {
  it("walks forward and all the way back, page numbers included", () => {
    const cursors = ["c1", "c2", "c3", "c4"];
    let p = parsePagePosition(undefined, undefined);
    expect(p).toEqual({ trail: [], page: 1 });
    expect(pageLinks(p, "c1")).toEqual({ first: null, previous: null, next: { cursor: "c1" } });
    const seen = [p];
    for (const c of cursors) {
      p = follow(pageLinks(p, c).next);
      expect(p.cursor).toBe(c);
      seen.push(p);
    }
    expect(p.page).toBe(5);
    expect(p.trail).toEqual(["c1", "c2", "c3"]);
    expect(pageLinks(p, null).next).toBeNull();
    expect(pageLinks(p, null).first).toEqual({});
    for (let i = seen.length - 2; i >= 0; i--) {
      p = follow(pageLinks(p, "whatever").previous);
      expect(p).toEqual(seen[i]);
    }
    expect(pageLinks(p, "c1").previous).toBeNull();
  });

  it("drops what is not a cursor trail", () => {
    expect(parsePagePosition("c1", undefined)).toEqual({ cursor: "c1", trail: [], page: 2 });
    expect(parsePagePosition("../x", "c1")).toEqual({ trail: [], page: 1 });
    expect(parsePagePosition(["c1"], undefined)).toEqual({ trail: [], page: 1 });
    expect(parsePagePosition("c2", "c1..c0")).toMatchObject({ trail: [], page: null });
    expect(parsePagePosition("c2", "<script>")).toMatchObject({ trail: [], page: null });
    // An unknown way back: Previous goes to page 1, Next stays unknown.
    const lost = parsePagePosition("c9", "*");
    expect(lost.page).toBeNull();
    expect(pageLinks(lost, "c10")).toEqual({
      first: {},
      previous: {},
      next: { cursor: "c10", back: "*" },
    });
  });

  it("forgets the way back past MAX_TRAIL pages instead of growing the URL for ever", () => {
    const trail = Array.from({ length: MAX_TRAIL }, (_, i) => `c${i}`);
    const deep = parsePagePosition("cx", trail.join("."));
    expect(deep.page).toBe(MAX_TRAIL + 2);
    expect(pageLinks(deep, "cy").next).toEqual({ cursor: "cy", back: "*" });
    expect(parsePagePosition("cx", [...trail, "c"].join(".")).page).toBeNull();
  });
});
