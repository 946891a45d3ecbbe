// Webhooks in the dashboard, end to end in Chromium against a receiver this test runs on
// 127.0.0.1 (the server runs with KEYWARD_WEBHOOK_ALLOW_PRIVATE=1): register an endpoint and see
// its signing secret once, send a test event and see it delivered in the log, resend it and see
// the receiver get it again; every request the receiver got verifies with the standardwebhooks
// library. Then rotate the secret (shown once): the next message verifies with the old and the
// new secret. Serial: each step builds on the previous one.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import AxeBuilder from "@axe-core/playwright";
import { type Browser, expect, type Page, test } from "@playwright/test";
import { Webhook } from "standardwebhooks";

test.describe.configure({ mode: "serial", timeout: 180_000 });

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const admin = {
  name: "Wendy Webhooks",
  email: `wendy-${RUN}@example.test`,
  password: "correct horse battery staple",
  org: `Hooks ${RUN}`,
};

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
let receiver: Server;
let receiverUrl = "";
let page: Page;
let slug = "";
let secret = "";
let endpointPath = "";

async function newPage(browser: Browser, baseURL: string | undefined) {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  return context.newPage();
}

test.beforeAll(async ({ browser, baseURL }) => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/keyward-hook`;
  page = await newPage(browser, baseURL);
});

test.afterAll(async () => {
  await page?.context().close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

/** The Standard Webhooks headers of one request, as the library takes them. */
function signatureHeaders(r: Received): Record<string, string> {
  return {
    "webhook-id": String(r.headers["webhook-id"]),
    "webhook-timestamp": String(r.headers["webhook-timestamp"]),
    "webhook-signature": String(r.headers["webhook-signature"]),
  };
}

function verify(r: Received, withSecret: string) {
  return new Webhook(withSecret).verify(r.body, signatureHeaders(r)) as {
    type: string;
    data: Record<string, unknown>;
  };
}

/** Reloads the endpoint page until the newest delivery shows `status`. */
async function expectNewestDelivery(status: string) {
  await expect
    .poll(
      async () => {
        await page.reload();
        return (
          await page
            .getByTestId("delivery-row")
            .first()
            .getByTestId("delivery-status")
            .textContent()
        )?.trim();
      },
      { timeout: 60_000, intervals: [500, 1000, 2000] },
    )
    .toBe(status);
}

test("sign up, open Settings, then Webhooks", async () => {
  await page.goto("/signup");
  await page.locator("#name").fill(admin.name);
  await page.locator("#email").fill(admin.email);
  await page.locator("#password").fill(admin.password);
  await page.locator("#organizationName").fill(admin.org);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/[a-z0-9-]+\/keys$/);
  slug = new URL(page.url()).pathname.split("/")[1] ?? "";
  await page.goto(`/${slug}/settings`);
  await page.getByTestId("webhooks-link").click();
  await page.waitForURL(new RegExp(`/${slug}/settings/webhooks$`));
  await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();
  await expect(page.getByTestId("empty-state")).toBeVisible();
});

test("a refused URL shows its reason; a good one is registered and its secret shown once", async () => {
  await page.getByTestId("create-webhook").first().click();
  const dialog = page.locator('dialog[open][data-testid="create-webhook-dialog"]');
  await expect(dialog).toBeVisible();
  // The cloud metadata address: refused, with the reason next to the field.
  await dialog.getByLabel("URL").fill("http://169.254.169.254/latest/meta-data/");
  await dialog.getByLabel("key.created").check();
  await dialog.getByTestId("create-webhook-submit").click();
  await expect(dialog.getByTestId("webhook-url-error")).toContainText("private");
  // No event type chosen: said so.
  await dialog.getByLabel("URL").fill(receiverUrl);
  await dialog.getByLabel("key.created").uncheck();
  await dialog.getByTestId("create-webhook-submit").click();
  await expect(dialog.getByTestId("event-types-error")).toBeVisible();

  await dialog.getByLabel("key.created").check();
  await dialog.getByLabel("key.revoked").check();
  await dialog.getByLabel("Description (optional)").fill("e2e receiver");
  await dialog.getByTestId("create-webhook-submit").click();
  const shown = dialog.getByTestId("key-secret");
  await expect(shown).toBeVisible();
  secret = (await shown.textContent())?.trim() ?? "";
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
  await expect(dialog.getByRole("note")).toContainText("only once");
  await dialog.getByTestId("copy-key").click();
  await expect(dialog.getByTestId("copy-key")).toHaveAccessibleName("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await dialog.getByTestId("key-done").click();
  await expect(page.locator('dialog[open][data-testid="create-webhook-dialog"]')).toHaveCount(0);

  const row = page.getByTestId("webhook-row").filter({ hasText: receiverUrl });
  await expect(row).toBeVisible();
  await expect(row).toContainText("key.created");
  await expect(row).toContainText("enabled");
  await expect(row).toContainText("None yet");
  // Never again: not in the list, not on the endpoint's page.
  expect(await page.content()).not.toContain(secret);
  await row.getByRole("link", { name: receiverUrl }).click();
  await page.waitForURL(new RegExp(`/${slug}/settings/webhooks/[0-9a-f-]{36}$`));
  endpointPath = new URL(page.url()).pathname;
  await expect(page.getByTestId("webhook-events")).toHaveText("key.created, key.revoked");
  expect(await page.content()).not.toContain(secret);
});

test("send a test event: delivered, signed, shown in the log with its attempt", async () => {
  await page.getByTestId("send-test-event").click();
  await expect(page.getByText("Test event queued.")).toBeVisible();
  await expect.poll(() => received.length, { timeout: 60_000 }).toBe(1);
  const first = received[0] as Received;
  const event = verify(first, secret);
  expect(event.type).toBe("webhook.test");
  expect(String(first.headers["webhook-id"])).toMatch(/^msg_[0-9a-f]{32}$/);
  // A wrong secret does not verify.
  expect(() => verify(first, `whsec_${Buffer.alloc(24, 7).toString("base64")}`)).toThrow();

  await expectNewestDelivery("delivered");
  const row = page.getByTestId("delivery-row").first();
  await expect(row).toContainText("webhook.test");
  await expect(row.getByTestId("delivery-attempts")).toHaveText("1");
  await expect(row.getByTestId("delivery-response")).toContainText("200");
  await row.getByText("Attempt details").click();
  await expect(row.getByTestId("attempt-log")).toContainText("200");
});

test("resend it: the receiver gets the same message again, signed", async () => {
  const row = page.getByTestId("delivery-row").first();
  const deliveryId = (await row.getAttribute("data-delivery-id")) ?? "";
  await page.getByTestId(`resend-${deliveryId}`).click();
  await expect(page.getByText("Delivery queued again.")).toBeVisible();
  await expect.poll(() => received.length, { timeout: 60_000 }).toBe(2);
  const again = received[1] as Received;
  expect(again.headers["webhook-id"]).toBe(received[0]?.headers["webhook-id"]);
  expect(verify(again, secret).type).toBe("webhook.test");
  await expectNewestDelivery("delivered");
  await expect(page.getByTestId("delivery-row")).toHaveCount(1);
});

test("rotate the secret: the new one shown once; the old and the new both sign for now", async () => {
  await page.getByTestId("rotate-secret").click();
  const dialog = page.locator('dialog[open][data-testid="rotate-secret-dialog"]');
  await dialog.getByTestId("rotate-secret-submit").click();
  const shown = dialog.getByTestId("key-secret");
  await expect(shown).toBeVisible();
  const rotated = (await shown.textContent())?.trim() ?? "";
  expect(rotated).toMatch(/^whsec_/);
  expect(rotated).not.toBe(secret);
  await dialog.getByTestId("copy-key").click();
  await dialog.getByTestId("key-done").click();
  await page.reload();
  expect(await page.content()).not.toContain(rotated);

  await page.getByTestId("send-test-event").click();
  await expect.poll(() => received.length, { timeout: 60_000 }).toBe(3);
  const third = received[2] as Received;
  expect(verify(third, rotated).type).toBe("webhook.test");
  expect(verify(third, secret).type).toBe("webhook.test");
});

/** axe-core (WCAG 2.1 A and AA), light and dark: no serious or critical violation. */
async function expectAccessible(what: string) {
  const failures: string[] = [];
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    const { violations } = await new AxeBuilder({ page })
      .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
      .setLegacyMode(true)
      .analyze();
    for (const v of violations) {
      if (v.impact !== "serious" && v.impact !== "critical") continue;
      const nodes = v.nodes.slice(0, 5).map((n) => `    ${n.target.join(" ")}`);
      failures.push(`${what} (${colorScheme}): ${v.id} ${v.help}\n${nodes.join("\n")}`);
    }
  }
  await page.emulateMedia({ colorScheme: null });
  expect(failures, failures.join("\n")).toEqual([]);
}

test("the webhooks pages and dialogs are accessible, light and dark", async () => {
  await page.goto(endpointPath);
  await page.getByTestId("delivery-row").first().getByText("Attempt details").click();
  await expectAccessible("webhook endpoint with its delivery log");
  await page.getByTestId("edit-webhook").click();
  await expect(page.locator('dialog[open][data-testid="edit-webhook-dialog"]')).toBeVisible();
  await expectAccessible("edit endpoint dialog");
  await page.goto(`/${slug}/settings/webhooks`);
  await expectAccessible("webhooks list");
  await page.getByTestId("create-webhook").first().click();
  await expect(page.locator('dialog[open][data-testid="create-webhook-dialog"]')).toBeVisible();
  await expectAccessible("add endpoint dialog");
});

test("disable, enable and delete (confirmed)", async () => {
  await page.goto(endpointPath);
  await page.getByTestId("toggle-webhook").click();
  await expect(page.getByText("Endpoint disabled.")).toBeVisible();
  await expect(page.getByTestId("endpoint-disabled")).toBeVisible();
  await page.getByTestId("toggle-webhook").click();
  await expect(page.getByText("Endpoint enabled.")).toBeVisible();

  await page.getByTestId("delete-webhook").click();
  const dialog = page.locator('dialog[open][data-testid="delete-webhook-dialog"]');
  await dialog.getByTestId("delete-webhook-submit").click();
  await expect(dialog.getByText("Tick the box to confirm.")).toBeVisible();
  await dialog.getByLabel("Yes, delete this endpoint and its delivery log.").check();
  await dialog.getByTestId("delete-webhook-submit").click();
  await page.waitForURL(new RegExp(`/${slug}/settings/webhooks$`));
  await expect(page.getByTestId("empty-state")).toBeVisible();
});
