import { redirect } from "next/navigation";
import { requireUser } from "../_lib/access";
import { listOrganizationsOfUser } from "../_lib/data";

/** Where sign-in lands: the user's newest organization, or creating one. */
export default async function DashboardEntry() {
  const user = await requireUser();
  const [first] = await listOrganizationsOfUser(user.id);
  redirect(first ? `/${first.organization.slug}/keys` : "/organizations/new");
}
