// The floor: a Next route handler that returns fixed JSON and does nothing else.
export const dynamic = "force-dynamic";

const FIXED = { ok: true, service: "plain", note: "fixed json" };

export async function POST() {
  return Response.json(FIXED);
}
