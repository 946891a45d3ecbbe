// A Next.js route handler protected and metered by Keyward: needs the `chat:write` scope.
import { keywardFromEnv } from "../../../../keyward";

const keyward = keywardFromEnv();
keyward.installShutdownHooks();

export const dynamic = "force-dynamic";

export const POST = keyward.protect(
  async (req, { key, addTokens, addCost }) => {
    const { prompt } = (await req.json().catch(() => ({}))) as { prompt?: string };
    const reply = `echo: ${String(prompt ?? "")}`;
    addTokens(reply.length);
    addCost("0.0021");
    return Response.json({ reply, keyId: key?.id ?? null, scopes: key?.scopes ?? [] });
  },
  { scopes: ["chat:write"], endpoint: "/api/chat" },
);
