// The floor plus reading the request body, which every real POST handler (verify too) must do.
export const dynamic = "force-dynamic";

const FIXED = { ok: true, service: "plain", note: "fixed json" };

export async function POST(request) {
  await request.text();
  return Response.json(FIXED);
}
