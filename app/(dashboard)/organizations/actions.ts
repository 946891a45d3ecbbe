"use server";
import { redirect } from "next/navigation";
import { z } from "zod";
import { userActor } from "@/lib/services/actor";
import { EmailSchema, OrganizationNameSchema } from "@/lib/validation/accounts";
import { currentUser } from "../_lib/access";
import { type ActionState, invalid, refused } from "../_lib/action-state";
import { createOrganization } from "../_lib/data";

export type NewOrgState = ActionState;

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
  if (!parsed.success) return invalid(parsed.error, values);
  let slug: string;
  try {
    const org = await createOrganization(
      { ...parsed.data, ownerUserId: user.id },
      userActor(user.id),
    );
    slug = org.slug;
  } catch (e) {
    return refused(e, values);
  }
  redirect(`/${slug}/keys`);
}
