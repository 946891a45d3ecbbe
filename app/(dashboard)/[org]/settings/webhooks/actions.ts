"use server";
// Webhook endpoint mutations from the dashboard. Each action: session, membership and role first
// (ADMIN or OWNER), then zod, then the endpoints service. A signing secret is only in the return
// value of create and rotate, for the dialog that shows it once.
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import {
  WebhookDescriptionSchema,
  WebhookEventTypesSchema,
  WebhookUrlSchema,
} from "@/lib/validation/webhooks";
import { authorizeMember } from "../../../_lib/access";
import { type ActionState, invalid, refused } from "../../../_lib/action-state";
import {
  createWebhook,
  deleteWebhook,
  resendWebhookDelivery,
  rotateWebhookSecret,
  sendWebhookTestEvent,
  updateWebhook,
  type WebhookView,
} from "../../../_lib/data";

/** An endpoint action's outcome; `secret` (shown once) only after a create or a rotation. */
export type WebhookActionState = ActionState<{
  secret?: string;
  webhook?: WebhookView;
  message: string;
}>;

const WebhookId = z.uuid("Unknown webhook endpoint.");

const EndpointForm = z.object({
  url: WebhookUrlSchema,
  eventTypes: WebhookEventTypesSchema,
  description: WebhookDescriptionSchema,
});

function endpointFields(form: FormData) {
  return {
    url: String(form.get("url") ?? ""),
    eventTypes: form.getAll("eventTypes").map(String),
    description: String(form.get("description") ?? ""),
  };
}

function revalidateWebhooks(slug: string, id?: string) {
  revalidatePath(`/${slug}/settings/webhooks`);
  if (id) revalidatePath(`/${slug}/settings/webhooks/${id}`);
}

type Access = Extract<Awaited<ReturnType<typeof authorizeMember>>, { ok: true }>;
type EndpointFields = ReturnType<typeof endpointFields>;

/** The create and edit forms' first lines: the role, then the endpoint's fields. */
async function readEndpointForm(
  form: FormData,
): Promise<
  | { denied: WebhookActionState }
  | { access: Access; raw: EndpointFields; data: z.output<typeof EndpointForm> }
> {
  const access = await authorizeMember(form.get("org"), "ADMIN");
  if (!access.ok) return { denied: access };
  const raw = endpointFields(form);
  const parsed = EndpointForm.safeParse(raw);
  if (!parsed.success) return { denied: invalid(parsed.error, raw) };
  return { access, raw, data: parsed.data };
}

export async function createWebhookAction(
  _prev: WebhookActionState,
  form: FormData,
): Promise<WebhookActionState> {
  const read = await readEndpointForm(form);
  if ("denied" in read) return read.denied;
  const { access, raw } = read;
  let created: Awaited<ReturnType<typeof createWebhook>>;
  try {
    created = await createWebhook(
      { organizationId: access.ctx.organization.id, ...read.data },
      access.actor,
    );
  } catch (e) {
    return refused(e, raw);
  }
  revalidateWebhooks(access.ctx.organization.slug);
  const { secret, ...webhook } = created;
  return { ok: true, secret, webhook, message: "Webhook endpoint created." };
}

export async function updateWebhookAction(
  _prev: WebhookActionState,
  form: FormData,
): Promise<WebhookActionState> {
  const read = await readEndpointForm(form);
  if ("denied" in read) return read.denied;
  const id = WebhookId.safeParse(form.get("webhookId"));
  if (!id.success) return invalid(id.error, read.raw);
  return change(
    read.access,
    id.data,
    "Webhook endpoint saved.",
    (org, actor) => updateWebhook(org, id.data, read.data, actor),
    read.raw,
  );
}

/** Runs one change of an endpoint and answers with the endpoint, or the service's refusal. */
async function change(
  access: Access,
  webhookId: string,
  message: string,
  run: (organizationId: string, actor: Access["actor"]) => Promise<WebhookView>,
  values?: EndpointFields,
): Promise<WebhookActionState> {
  let webhook: WebhookView;
  try {
    webhook = await run(access.ctx.organization.id, access.actor);
  } catch (e) {
    return refused(e, values);
  }
  revalidateWebhooks(access.ctx.organization.slug, webhookId);
  return { ok: true, webhook, message };
}

/** The first lines of every action on one endpoint: the role, then the endpoint's id. */
async function authorizeEndpoint(
  form: FormData,
): Promise<{ denied: WebhookActionState } | { access: Access; webhookId: string }> {
  const access = await authorizeMember(form.get("org"), "ADMIN");
  if (!access.ok) return { denied: access };
  const id = WebhookId.safeParse(form.get("webhookId"));
  if (!id.success) return { denied: invalid(id.error) };
  return { access, webhookId: id.data };
}

export async function setWebhookEnabledAction(
  _prev: WebhookActionState,
  form: FormData,
): Promise<WebhookActionState> {
  const a = await authorizeEndpoint(form);
  if ("denied" in a) return a.denied;
  const enabled = form.get("enabled") === "true";
  return change(
    a.access,
    a.webhookId,
    enabled ? "Endpoint enabled." : "Endpoint disabled.",
    (o, actor) => updateWebhook(o, a.webhookId, { enabled }, actor),
  );
}

export async function deleteWebhookAction(
  _prev: WebhookActionState,
  form: FormData,
): Promise<WebhookActionState> {
  const a = await authorizeEndpoint(form);
  if ("denied" in a) return a.denied;
  const confirm = z.literal("on", { error: "Tick the box to confirm." });
  const c = z.object({ confirm }).safeParse({ confirm: form.get("confirm") ?? "" });
  if (!c.success) return invalid(c.error);
  const done = await change(a.access, a.webhookId, "Webhook endpoint deleted.", (o, actor) =>
    deleteWebhook(o, a.webhookId, actor),
  );
  // To the list from the server: the endpoint's own page, revalidated with the action, is now
  // "not found", and would replace the dialog before a client-side push could run.
  if (done.ok) redirect(`/${a.access.ctx.organization.slug}/settings/webhooks`);
  return done;
}

export async function rotateWebhookSecretAction(
  _prev: WebhookActionState,
  form: FormData,
): Promise<WebhookActionState> {
  const a = await authorizeEndpoint(form);
  if ("denied" in a) return a.denied;
  let rotated: Awaited<ReturnType<typeof rotateWebhookSecret>>;
  try {
    rotated = await rotateWebhookSecret(a.access.ctx.organization.id, a.webhookId, a.access.actor);
  } catch (e) {
    return refused(e);
  }
  revalidateWebhooks(a.access.ctx.organization.slug, a.webhookId);
  const { secret, ...webhook } = rotated;
  return { ok: true, secret, webhook, message: "Signing secret rotated." };
}

export async function sendWebhookTestAction(
  _prev: WebhookActionState,
  form: FormData,
): Promise<WebhookActionState> {
  const a = await authorizeEndpoint(form);
  if ("denied" in a) return a.denied;
  try {
    await sendWebhookTestEvent(a.access.ctx.organization.id, a.webhookId);
  } catch (e) {
    return refused(e);
  }
  revalidateWebhooks(a.access.ctx.organization.slug, a.webhookId);
  return { ok: true, message: "Test event queued." };
}

export async function resendWebhookDeliveryAction(
  _prev: WebhookActionState,
  form: FormData,
): Promise<WebhookActionState> {
  const a = await authorizeEndpoint(form);
  if ("denied" in a) return a.denied;
  const deliveryId = z.uuid("Unknown delivery.").safeParse(form.get("deliveryId"));
  if (!deliveryId.success) return invalid(deliveryId.error);
  try {
    await resendWebhookDelivery(a.access.ctx.organization.id, a.webhookId, deliveryId.data);
  } catch (e) {
    return refused(e);
  }
  revalidateWebhooks(a.access.ctx.organization.slug, a.webhookId);
  return { ok: true, message: "Delivery queued again." };
}
