// An Express app protected and metered by Keyward: `POST /v1/chat` needs the `chat:write` scope.
// Run: KEYWARD_URL=… KEYWARD_SERVICE_CREDENTIAL=ksvc_… PORT=3001 npx tsx examples/express/server.ts
import { getKeyward } from "@keyward/sdk";
import express from "express";
import { keywardFromEnv } from "../keyward";

const keyward = keywardFromEnv();
keyward.installShutdownHooks(); // SIGTERM/SIGINT: report queued usage, then exit

const app = express();
app.use(express.json());

app.post("/v1/chat", keyward.express({ scopes: ["chat:write"] }), (req, res) => {
  const { key, addTokens, addCost } = getKeyward(req);
  const reply = `echo: ${String(req.body?.prompt ?? "")}`;
  addTokens(reply.length);
  addCost("0.0021");
  res.json({ reply, keyId: key?.id ?? null, scopes: key?.scopes ?? [] });
});

app.get("/health", (_req, res) => {
  res.json({ ok: true, pending: keyward.pending });
});

const port = Number(process.env.PORT ?? 3001);
app.listen(port, "127.0.0.1", () => console.log(`example express: ready on ${port}`));
