"use server";
import { redirect } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/lib/db";
import { isKeywardError } from "@/lib/errors";
import { userActor } from "@/lib/services/actor";
import { createOrganization } from "@/lib/services/org-service";
import { EmailSchema, OrganizationNameSchema } from "@/lib/validation/accounts";
import { currentUser } from "../_lib/access";

export type NewOrgState = {
  ok: boolean;
  message?: string;
  fieldErrors?: Record<string, string[] | undefined>;
  values?: { name?: string; email?: string };
};

const NewOrgInput = z.object({
  name: OrganizationNameSchema,
  email: EmailSchema,
});

export async function createOrganizationAction(
  _prev: NewOrgState,
  form: FormData,
): Promise<NewOrgState> {
  const user = await currentUser();
  if (!user) return { ok: false, message: "Your session ended. Sign in again." };
  const values = { name: String(form.get("name") ?? ""), email: String(form.get("email") ?? "") };
  const parsed = NewOrgInput.safeParse(values);
  if (!parsed.success) {
    return { ok: false, fieldErrors: z.flattenError(parsed.error).fieldErrors, values };
  }
  let slug: string;
  try {
    const org = await createOrganization(
      await getDb(),
      { ...parsed.data, ownerUserId: user.id },
      userActor(user.id),
    );
    slug = org.slug;
  } catch (e) {
    if (isKeywardError(e) && e.issues?.length) {
      const fieldErrors: Record<string, string[]> = {};
      for (const i of e.issues) fieldErrors[i.path] = [i.message];
      return { ok: false, fieldErrors, values };
    }
    if (isKeywardError(e)) return { ok: false, message: e.message, values };
    throw e;
  }
  redirect(`/${slug}/keys`);
}
