// People and organizations: the fields sign-up, the settings forms and the CLI accept, once.
import { ROLES } from "./rules";
import { isStorableText, safeText } from "./text";
import { z } from "./zod";

export const NAME_MAX = 100;
export const EMAIL_MAX = 254;
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 200;

export const PersonNameSchema = safeText({
  min: 1,
  max: NAME_MAX,
  messages: { min: "Enter your name.", max: `Use at most ${NAME_MAX} characters.` },
});

export const OrganizationNameSchema = safeText({
  min: 2,
  max: NAME_MAX,
  messages: { min: "Use at least 2 characters.", max: `Use at most ${NAME_MAX} characters.` },
});

/** zod's email check is ASCII only, so no control character or NUL gets through it. */
export const EmailSchema = z
  .email("Enter an email address.")
  .max(EMAIL_MAX, `Use at most ${EMAIL_MAX} characters.`);

/** Any characters a person can type (it is hashed, never stored), but no NUL or lone surrogate. */
export const PasswordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `Use at least ${PASSWORD_MIN_LENGTH} characters.`)
  .max(PASSWORD_MAX_LENGTH, `Use at most ${PASSWORD_MAX_LENGTH} characters.`)
  .refine(isStorableText, "Must not contain NUL or unpaired surrogates.");

/** A slug chosen for a new organization: lowercase letters, digits and dashes, at most 48. */
export const ORGANIZATION_SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;
export const OrganizationSlugSchema = z
  .string()
  .regex(ORGANIZATION_SLUG_RE, "Lowercase letters, digits and dashes (at most 48).");

// What any stored slug looks like (a derived one may end in `-2`, past 48 characters): a lookup
// by anything else names no organization, and is answered without a query.
const SLUG_LOOKUP_RE = /^[a-z0-9][a-z0-9-]{0,99}$/;

/** True when `slug` could name an existing organization. */
export function isOrganizationSlug(slug: unknown): slug is string {
  return typeof slug === "string" && SLUG_LOOKUP_RE.test(slug);
}

/** An existing organization's slug, as the CLI's `--org` takes it. */
export const OrganizationSlugRefSchema = z
  .string()
  .regex(SLUG_LOOKUP_RE, "is not an organization slug (lowercase letters, digits and dashes)");

/** A member's role in an organization. */
export const RoleSchema = z.enum(ROLES, { error: "Choose a role: owner, admin or viewer." });
