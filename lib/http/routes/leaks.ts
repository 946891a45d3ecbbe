// Leak reports (PRODUCT.md section 12): anyone may report a key seen in public; GitHub reports
// the tokens its secret scanning finds, signed. Both apply the key's organization's leak policy
// (lib/services/leaks).
import { assertRateLimit, POLICIES } from "@/lib/ratelimit/policies";
import { queueLeakReport } from "@/lib/services/leaks/apply-leak";
import {
  checkGithubSignature,
  handleGithubAlerts,
} from "@/lib/services/leaks/github-secret-scanning";
import {
  GithubSecretAlertsSchema,
  GithubSecretAnswerSchema,
  LeakReportAnswerSchema,
  LeakReportBodySchema,
} from "@/lib/validation/leaks";
import { SECRET_SCANNING_BODY_LIMIT } from "@/lib/validation/rules";
import { defineRoute } from "../route";

// One answer for every well-formed report, whether the key exists or not.
const RECEIVED = {
  status: "received",
  message:
    "Thank you. If this is a Keyward key, its organization's leak policy is applied and its admins are told.",
} as const;

export const reportLeakRoute = defineRoute({
  summary: "Report a leaked key",
  description:
    "Anyone may report a key seen in public. A real key is revoked (reason `reported leaked`) or flagged, per its organization's leak policy, and its admins are mailed; the work runs after the answer, which is always the same 202 whether the key exists or not. A key already reported changes nothing. Reports are rate limited per client address.",
  path: "/api/v1/keys/leaked",
  method: "POST",
  operationId: "reportLeakedKey",
  tag: "Keys",
  errors: ["RATE_LIMITED"],
  auth: "none",
  body: LeakReportBodySchema,
  output: LeakReportAnswerSchema,
  status: 202,
  async handler(ctx) {
    await assertRateLimit(POLICIES.leakReportPerAddress, ctx.request.ip);
    queueLeakReport(
      ctx.db,
      { key: ctx.body.key, source: ctx.body.source, url: ctx.body.url },
      { type: "system", id: "leak-report", ip: ctx.request.ip },
    );
    return RECEIVED;
  },
});

export const githubSecretScanningRoute = defineRoute({
  summary: "GitHub secret scanning",
  description:
    "GitHub's secret scanning partner endpoint: a JSON list of `{ token, type, url, source }` signed with ECDSA P-256 (headers `Github-Public-Key-Identifier`, `Github-Public-Key-Signature`: base64 DER over the raw body) by a key configured in `KEYWARD_GITHUB_SECRET_SCANNING_KEYS`. Each Keyward key gets its organization's leak policy; the answer labels every token `true_positive` or `false_positive`. Replays change nothing. 503 when no keys are configured.",
  path: "/api/v1/secret-scanning/github",
  method: "POST",
  operationId: "githubSecretScanning",
  tag: "Keys",
  errors: [
    "SIGNATURE_INVALID",
    "INVALID_JSON",
    "PAYLOAD_TOO_LARGE",
    "VALIDATION_FAILED",
    "UNAVAILABLE",
  ],
  auth: "none",
  // The signature covers the raw bytes: the handler reads and parses the body itself.
  documentedBody: GithubSecretAlertsSchema,
  output: GithubSecretAnswerSchema,
  async handler(ctx) {
    const body = await ctx.request.readBody(SECRET_SCANNING_BODY_LIMIT);
    checkGithubSignature(
      body,
      ctx.request.headers.get("github-public-key-identifier"),
      ctx.request.headers.get("github-public-key-signature"),
    );
    return handleGithubAlerts(ctx.db, body, { type: "system", id: "github-secret-scanning" });
  },
});
