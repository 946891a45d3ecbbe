import type { Metadata } from "next";
import Link from "next/link";
import { PageHeader } from "@/components/dashboard/page-header";
import { formatDate, formatNumber, formatPercent } from "@/components/keys/format";
import { EmailAlertsForm } from "@/components/settings/email-alerts-form";
import { LeakPolicyForm } from "@/components/settings/leak-policy-form";
import {
  InvitationControls,
  InviteForm,
  KeyPolicyForm,
  MemberControls,
  RenameForm,
  SpendLimitForm,
} from "@/components/settings/settings-forms";
import { Badge } from "@/components/ui/badge";
import { buttonClasses } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { canManage } from "@/lib/auth/roles";
import { requireMember } from "../../_lib/access";
import {
  getEmailAlerts,
  getMonthToDateRequests,
  listMembers,
  listPendingInvitations,
} from "../../_lib/data";

export const metadata: Metadata = { title: "Settings · Keyward" };

export default async function SettingsPage({ params }: { params: Promise<{ org: string }> }) {
  const { org } = await params;
  const { organization, role, user } = await requireMember(org);
  const manage = canManage(role);
  const [members, invitations, monthToDate, alerts] = await Promise.all([
    listMembers(organization.id),
    manage ? listPendingInvitations(organization.id) : Promise.resolve([]),
    getMonthToDateRequests(organization),
    manage ? getEmailAlerts(organization.id, user.id) : Promise.resolve([]),
  ]);
  const quotaUsed = organization.monthlyQuota ? monthToDate / organization.monthlyQuota : 0;
  return (
    <>
      <PageHeader title="Settings" description="The organization, its plan and its members." />
      <div className="grid gap-6 lg:grid-cols-2">
        <Card>
          <CardHeader>
            <CardTitle>Organization</CardTitle>
            <CardDescription>
              Slug <code className="font-mono">{organization.slug}</code> (in every dashboard URL).
            </CardDescription>
          </CardHeader>
          <CardContent>
            <RenameForm slug={organization.slug} name={organization.name} disabled={!manage} />
            {!manage ? (
              <p className="mt-2 text-xs text-muted-foreground">Viewers cannot change settings.</p>
            ) : null}
          </CardContent>
        </Card>
        <Card data-testid="plan-card">
          <CardHeader>
            <CardTitle className="flex items-center gap-2">
              Plan <Badge tone="info">{organization.plan}</Badge>
            </CardTitle>
            <CardDescription>
              Limits of this organization. The operator changes plans.
            </CardDescription>
          </CardHeader>
          <CardContent>
            <dl className="grid grid-cols-2 gap-3 text-sm">
              <div>
                <dt className="text-xs text-muted-foreground">Requests per minute per key</dt>
                <dd className="font-medium tabular-nums">
                  {formatNumber(organization.rateLimitPerMinute)}
                </dd>
              </div>
              <div>
                <dt className="text-xs text-muted-foreground">Active keys</dt>
                <dd className="font-medium tabular-nums">
                  {formatNumber(organization.maxActiveKeys)}
                </dd>
              </div>
              <div>
                <dt className="text-xs text-muted-foreground">Requests per month</dt>
                <dd className="font-medium tabular-nums">
                  {formatNumber(organization.monthlyQuota)}
                </dd>
              </div>
              <div>
                <dt className="text-xs text-muted-foreground">Usage kept for</dt>
                <dd className="font-medium tabular-nums">{organization.usageRetentionDays} days</dd>
              </div>
            </dl>
            <div className="mt-4">
              <div className="mb-1 flex justify-between text-xs text-muted-foreground">
                <span>This month (UTC)</span>
                <span className="tabular-nums">
                  {formatNumber(monthToDate)} / {formatNumber(organization.monthlyQuota)} (
                  {formatPercent(quotaUsed)})
                </span>
              </div>
              <div
                className="h-2 overflow-hidden rounded-full bg-muted"
                role="progressbar"
                aria-label="Monthly quota used"
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={Math.min(100, Math.round(quotaUsed * 100))}
              >
                <div
                  className={quotaUsed >= 0.9 ? "h-full bg-danger" : "h-full bg-primary"}
                  style={{ width: `${Math.min(100, quotaUsed * 100)}%` }}
                />
              </div>
            </div>
            <div className="mt-6" data-testid="org-spend-limit">
              <SpendLimitForm
                slug={organization.slug}
                spendLimitUsd={
                  organization.spendLimitUsd === null
                    ? ""
                    : String(Number(organization.spendLimitUsd.toString()))
                }
                disabled={role !== "OWNER"}
              />
            </div>
          </CardContent>
        </Card>
        <Card data-testid="leak-policy-card">
          <CardHeader>
            <CardTitle>Leak policy</CardTitle>
            <CardDescription>
              What happens when one of this organization&apos;s keys is reported leaked (by anyone,
              or by GitHub secret scanning). Admins are mailed either way. Owners change it.
            </CardDescription>
          </CardHeader>
          <CardContent>
            <LeakPolicyForm
              slug={organization.slug}
              leakAction={organization.leakAction}
              canEdit={role === "OWNER"}
            />
          </CardContent>
        </Card>
        <Card data-testid="key-policy-card">
          <CardHeader>
            <CardTitle>Key policy</CardTitle>
            <CardDescription>
              Creating and rotating keys (dashboard, API, CLI) must follow these rules.
            </CardDescription>
          </CardHeader>
          <CardContent>
            <KeyPolicyForm
              slug={organization.slug}
              policy={{
                maxKeyLifetimeDays: organization.maxKeyLifetimeDays,
                keyExpiryRequired: organization.keyExpiryRequired,
                liveKeysAdminsOnly: organization.liveKeysAdminsOnly,
              }}
              disabled={role !== "OWNER"}
            />
          </CardContent>
        </Card>
      </div>

      {manage ? (
        <section className="mt-8" aria-labelledby="email-alerts-heading">
          <h2 id="email-alerts-heading" className="mb-1 text-lg font-semibold">
            Email alerts
          </h2>
          <p className="mb-4 text-sm text-muted-foreground">
            What you ({user.email}) are mailed about in this organization. Each alert comes once per
            occasion (a quota threshold once a month, a key's expiry warning once per key). Webhooks
            get every event whatever you choose here.
          </p>
          <Card>
            <CardContent className="pt-4">
              <EmailAlertsForm slug={organization.slug} chosen={alerts} />
            </CardContent>
          </Card>
        </section>
      ) : null}
      <Card className="mt-6" data-testid="webhooks-card">
        <CardHeader>
          <CardTitle>Webhooks</CardTitle>
          <CardDescription>
            Signed events about keys, quotas and limits, sent to your own endpoints.
          </CardDescription>
        </CardHeader>
        <CardContent>
          <Link
            href={`/${organization.slug}/settings/webhooks`}
            className={buttonClasses("outline")}
            data-testid="webhooks-link"
          >
            Webhook endpoints
          </Link>
        </CardContent>
      </Card>

      <section className="mt-8">
        <h2 className="mb-1 text-lg font-semibold">Members</h2>
        <p className="mb-4 text-sm text-muted-foreground">
          Viewers see everything; admins and owners also change keys, members and settings. Only
          owners manage owners, and there is always at least one. People join by invitation: they
          accept it with a confirmed email address.
        </p>
        {manage ? (
          <Card className="mb-4">
            <CardContent className="pt-4">
              <InviteForm slug={organization.slug} canGrantOwner={role === "OWNER"} />
            </CardContent>
          </Card>
        ) : null}
        {manage && invitations.length > 0 ? (
          <div className="mb-6">
            <h3 className="mb-2 text-sm font-semibold">Pending invitations</h3>
            <Table data-testid="invitations-table">
              <THead>
                <tr>
                  <TH>Email</TH>
                  <TH>Role</TH>
                  <TH>Expires</TH>
                  <TH>Mail</TH>
                  <TH>
                    <span className="sr-only">Actions</span>
                  </TH>
                </tr>
              </THead>
              <TBody>
                {invitations.map((i) => (
                  <TR key={i.id} data-testid="invitation-row" data-invitation-id={i.id}>
                    <TD className="font-medium">{i.email}</TD>
                    <TD>
                      <Badge tone={i.role === "OWNER" ? "info" : "neutral"}>
                        {i.role.toLowerCase()}
                      </Badge>
                    </TD>
                    <TD className="text-muted-foreground">
                      {i.expired ? <Badge tone="danger">expired</Badge> : formatDate(i.expiresAt)}
                    </TD>
                    <TD data-testid="invitation-mail">
                      {i.sentAt ? (
                        <span className="text-muted-foreground">sent {formatDate(i.sentAt)}</span>
                      ) : (
                        <Badge tone="danger">not sent: resend</Badge>
                      )}
                    </TD>
                    <TD>
                      <InvitationControls
                        slug={organization.slug}
                        invitationId={i.id}
                        email={i.email}
                        disabled={i.role === "OWNER" && role !== "OWNER"}
                      />
                    </TD>
                  </TR>
                ))}
              </TBody>
            </Table>
          </div>
        ) : null}
        <Table data-testid="members-table">
          <THead>
            <tr>
              <TH>Member</TH>
              <TH>Role</TH>
              <TH>Joined</TH>
              {manage ? (
                <TH>
                  <span className="sr-only">Actions</span>
                </TH>
              ) : null}
            </tr>
          </THead>
          <TBody>
            {members.map((m) => (
              <TR key={m.user.id} data-testid="member-row">
                <TD>
                  <div className="font-medium">{m.user.name ?? m.user.email}</div>
                  <div className="text-xs text-muted-foreground">
                    {m.user.email}
                    {m.user.id === user.id ? " (you)" : ""}
                  </div>
                </TD>
                <TD>
                  <Badge tone={m.role === "OWNER" ? "info" : "neutral"}>
                    {m.role.toLowerCase()}
                  </Badge>
                </TD>
                <TD className="text-muted-foreground">{formatDate(m.joinedAt)}</TD>
                {manage ? (
                  <TD>
                    <MemberControls
                      slug={organization.slug}
                      userId={m.user.id}
                      role={m.role}
                      email={m.user.email}
                      canGrantOwner={role === "OWNER"}
                      isSelf={m.user.id === user.id}
                    />
                  </TD>
                ) : null}
              </TR>
            ))}
          </TBody>
        </Table>
      </section>
    </>
  );
}
