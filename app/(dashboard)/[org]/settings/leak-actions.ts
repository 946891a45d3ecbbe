"use server";
// The organization's leak policy (PRODUCT.md section 12): owners only, as the service checks too.
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { LeakActionSchema } from "@/lib/validation/leaks";
import { authorizeMember } from "../../_lib/access";
import { type ActionState, invalid, refused } from "../../_lib/action-state";
import { setLeakPolicy } from "../../_lib/data";

export async function setLeakPolicyAction(
  _prev: ActionState,
  form: FormData,
): Promise<ActionState> {
  const access = await authorizeMember(form.get("org"), "OWNER");
  if (!access.ok) return access;
  const values = { leakAction: String(form.get("leakAction") ?? "") };
  const parsed = z.object({ leakAction: LeakActionSchema }).safeParse(values);
  if (!parsed.success) return invalid(parsed.error, values);
  try {
    const { ctx, actor } = access;
    await setLeakPolicy(ctx.organization.id, parsed.data.leakAction, actor, ctx.role);
  } catch (e) {
    return refused(e, values);
  }
  revalidatePath(`/${access.ctx.organization.slug}/settings`);
  return { ok: true, message: "Leak policy saved." };
}
