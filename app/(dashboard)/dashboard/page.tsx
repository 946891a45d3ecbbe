import { redirect } from "next/navigation";
import { getDb } from "@/lib/db";
import { listOrganizationsOfUser } from "@/lib/services/org-service";
import { requireUser } from "../_lib/access";

/** Where sign-in lands: the user's newest organization, or creating one. */
export default async function DashboardEntry() {
  const user = await requireUser();
  const [first] = await listOrganizationsOfUser(await getDb(), user.id);
  redirect(first ? `/${first.organization.slug}/keys` : "/organizations/new");
}
