// A Hono app protected and metered by Keyward: `POST /v1/chat` needs the `chat:write` scope.
// Run: KEYWARD_URL=… KEYWARD_SERVICE_CREDENTIAL=ksvc_… PORT=3002 npx tsx examples/hono/server.ts
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { keywardFromEnv } from "../keyward";

const keyward = keywardFromEnv();
keyward.installShutdownHooks(); // SIGTERM/SIGINT: report queued usage, then exit

const chat = keyward.protect(
  async (req, { key, addTokens, addCost }) => {
    const { prompt } = (await req.json().catch(() => ({}))) as { prompt?: string };
    const reply = `echo: ${String(prompt ?? "")}`;
    addTokens(reply.length);
    addCost("0.0021");
    return Response.json({ reply, keyId: key?.id ?? null, scopes: key?.scopes ?? [] });
  },
  { scopes: ["chat:write"] },
);

const app = new Hono();
app.post("/v1/chat", (c) => chat(c.req.raw));
app.get("/health", (c) => c.json({ ok: true, pending: keyward.pending }));

const port = Number(process.env.PORT ?? 3002);
serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () =>
  console.log(`example hono: ready on ${port}`),
);
