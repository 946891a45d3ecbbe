import { redirect } from "next/navigation";
import { requireMember } from "../_lib/access";

export default async function OrgHome({ params }: { params: Promise<{ org: string }> }) {
  const { org } = await params;
  const { organization } = await requireMember(org);
  redirect(`/${organization.slug}/keys`);
}
