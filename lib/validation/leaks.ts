// Leak reports (PRODUCT.md section 12): the public report's body and answer, GitHub's secret
// scanning partner format, and how a key's leak shows in its view.
import { DateTimeSchema } from "./common";
import {
  LEAK_ACTIONS,
  LEAK_REPORT_KEY_MAX,
  LEAK_SOURCE_MAX,
  LEAK_URL_MAX,
  SECRET_SCANNING_MAX_TOKENS,
} from "./rules";
import { safeText } from "./text";
import { z } from "./zod";

export const LeakActionSchema = z.enum(LEAK_ACTIONS);

const LeakUrlSchema = z
  .url({ protocol: /^https?$/, hostname: z.regexes.domain })
  .max(LEAK_URL_MAX)
  .openapi({ example: "https://github.com/acme/app/blob/main/.env" });

export const LeakReportBodySchema = z
  .object({
    key: z.string().min(1).max(LEAK_REPORT_KEY_MAX).openapi({
      description: "The key seen in public. Anything that is not a Keyward key is answered alike.",
      example: "pk_live_3q2-7wE9yXbQm0fJdLr8sVt1uZk4nHc6aPg5oIe_x9Q_",
    }),
    source: safeText({ min: 1, max: LEAK_SOURCE_MAX }).optional().openapi({
      description: "Where it was found, in a word or two (e.g. `github`, `pastebin`).",
      example: "pastebin",
    }),
    url: LeakUrlSchema.optional(),
  })
  .openapi("LeakReport");

export const LeakReportAnswerSchema = z
  .object({
    status: z.literal("received"),
    message: z.string(),
  })
  .openapi("LeakReportAnswer");

/** One token of GitHub's secret scanning partner alert (the body is a list of these). */
export const GithubSecretAlertSchema = z.object({
  token: z.string().min(1).max(LEAK_REPORT_KEY_MAX),
  type: z.string().max(LEAK_SOURCE_MAX),
  url: z.string().max(LEAK_URL_MAX).optional(),
  source: z.string().max(LEAK_SOURCE_MAX).optional(),
});

export const GithubSecretAlertsSchema = z
  .array(GithubSecretAlertSchema)
  .min(1)
  .max(SECRET_SCANNING_MAX_TOKENS)
  .openapi("GithubSecretAlerts", {
    description:
      "GitHub's secret scanning partner alert: `[{ token, type, url, source }]`, signed by GitHub (headers Github-Public-Key-Identifier, Github-Public-Key-Signature).",
  });

export const GithubSecretAnswerSchema = z
  .array(
    z.object({
      token_hash: z.string().openapi({ description: "SHA-256 of the token, lowercase hex." }),
      token_type: z.string(),
      label: z.enum(["true_positive", "false_positive"]),
    }),
  )
  .openapi("GithubSecretAnswer");

/** A key's leak, when one was reported: when, where, and what its organization's policy did. */
export const KeyLeakSchema = z
  .object({
    reportedAt: DateTimeSchema,
    source: z.string().nullable(),
    url: z.string().nullable(),
  })
  .openapi("KeyLeak");
