// The SSRF rules of lib/webhooks/url-policy.ts. Names resolve through an injected resolver: no
// lookup reaches the network, and nothing here opens a connection.
import { describe, expect, it } from "vitest";
import { addressAllowed, checkWebhookUrl, type Resolver } from "@/lib/webhooks/url-policy";

const table: Record<string, string[]> = {
  "hooks.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
  "local.test": ["127.0.0.1"],
  "ten.test": ["10.0.0.1"],
  "metadata.test": ["169.254.169.254"],
  "mixed.test": ["93.184.215.14", "10.1.2.3"],
  "mapped.test": ["::ffff:192.168.1.1"],
  "nothing.test": [],
};
const resolve: Resolver = async (hostname) => {
  const list = table[hostname];
  if (!list) throw new Error(`ENOTFOUND ${hostname}`);
  return list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

async function refused(url: string, allowPrivate: boolean) {
  const r = await checkWebhookUrl(url, { resolve, allowPrivate });
  expect(r.ok, `${url} (allowPrivate=${allowPrivate}) must be refused`).toBe(false);
  return r.ok ? "" : r.code;
}

describe("checkWebhookUrl", () => {
  it("allows https to a public address, by literal and by name (all addresses checked)", async () => {
    const byName = await checkWebhookUrl("https://hooks.example.com/in?x=1", { resolve });
    expect(byName).toMatchObject({ ok: true });
    if (byName.ok) expect(byName.addresses).toHaveLength(2);
    expect((await checkWebhookUrl("https://93.184.215.14/", { resolve })).ok).toBe(true);
    expect((await checkWebhookUrl("https://[2606:4700::1111]/", { resolve })).ok).toBe(true);
  });

  it("refuses the issue's list without the flag", async () => {
    for (const url of [
      "http://10.0.0.1",
      "https://10.0.0.1",
      "http://169.254.169.254/latest/meta-data/",
      "https://169.254.169.254/",
      "https://local.test/hook",
      "http://local.test/hook",
      "https://127.0.0.1/",
      "https://[::1]/",
      "http://[::1]:8080/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:7f00:1]/",
      "https://[::ffff:10.0.0.1]/",
      "https://mapped.test/",
      "https://localhost/",
    ]) {
      // localhost is not in the table: the injected resolver fails, which refuses it too.
      await refused(url, false);
    }
    expect(await refused("http://10.0.0.1", false)).toBe("WEBHOOK_URL_NOT_ALLOWED");
    expect(await refused("https://local.test/", false)).toBe("WEBHOOK_URL_NOT_ALLOWED");
  });

  it("allows loopback with the flag, over http too; nothing else private", async () => {
    for (const url of [
      "http://127.0.0.1:8080/hook",
      "https://127.0.0.1/",
      "http://127.1.2.3/",
      "http://[::1]:9000/",
      "http://local.test/",
    ]) {
      const r = await checkWebhookUrl(url, { resolve, allowPrivate: true });
      expect(r.ok, url).toBe(true);
    }
    for (const url of [
      "http://10.0.0.1/",
      "http://169.254.169.254/",
      "https://ten.test/",
      "https://metadata.test/",
      "https://mixed.test/",
      "https://mapped.test/",
      "http://[::ffff:127.0.0.1]/",
      "http://[::ffff:7f00:1]/",
      "http://[::127.0.0.1]/",
      "http://[64:ff9b::7f00:1]/",
      // http to a public address stays refused with the flag
      "http://93.184.215.14/",
      "http://hooks.example.com/",
    ]) {
      await refused(url, true);
    }
  });

  it("refuses private, reserved and special ranges, and their IPv6 forms, even with the flag", async () => {
    const addresses = [
      "10.0.0.1",
      "10.255.255.255",
      "172.16.0.1",
      "172.31.255.254",
      "192.168.0.1",
      "169.254.0.1",
      "169.254.169.254",
      "0.0.0.0",
      "0.1.2.3",
      "100.64.0.1",
      "100.127.255.254",
      "224.0.0.1",
      "239.255.255.250",
      "255.255.255.255",
      "192.0.2.1",
      "198.18.0.1",
      "240.0.0.1",
      "::",
      "fe80::1",
      "febf::1",
      "fc00::1",
      "fd00::1",
      "fd00:ec2::254",
      "ff02::1",
      "::ffff:10.0.0.1",
      "::ffff:a00:1",
      "::ffff:169.254.169.254",
      "::ffff:192.168.1.1",
      "::10.0.0.1",
      "::ffff:0:10.0.0.1",
      "64:ff9b::10.0.0.1",
      "64:ff9b::a9fe:a9fe",
      "2002:a00:1::1",
      "2002:7f00:1::1",
      "2001:db8::1",
    ];
    for (const a of addresses) {
      expect(addressAllowed(a, true), a).toBe(false);
      expect(addressAllowed(a, false), a).toBe(false);
    }
    expect(addressAllowed("fe80::1%eth0", true)).toBe(false);
    expect(addressAllowed("not-an-ip", true)).toBe(false);
    expect(await refused("https://[fd00:ec2::254]/", true)).toBe("WEBHOOK_URL_NOT_ALLOWED");
    expect(await refused("https://[fe80::1]/", true)).toBe("WEBHOOK_URL_NOT_ALLOWED");
  });

  it("judges IPv4 literal tricks after WHATWG normalisation", async () => {
    for (const url of [
      "http://2130706433/", // 127.0.0.1 in decimal: allowed only with the flag
      "http://0x7f.1/",
      "http://0177.0.0.1/",
      "http://127.1/",
    ]) {
      expect(await refused(url, false)).toBe("WEBHOOK_URL_NOT_ALLOWED");
      expect((await checkWebhookUrl(url, { resolve, allowPrivate: true })).ok, url).toBe(true);
    }
    for (const url of [
      "https://167772161/", // 10.0.0.1
      "https://0xa9fea9fe/", // 169.254.169.254
      "https://012.0.0.1/", // 10.0.0.1 in octal
      "https://0xc0.0xa8.1.1/", // 192.168.1.1
    ]) {
      expect(await refused(url, true)).toBe("WEBHOOK_URL_NOT_ALLOWED");
    }
  });

  it("refuses malformed URLs, other schemes, credentials, overlong URLs and unresolvable names", async () => {
    for (const url of [
      "",
      "not a url",
      "/relative",
      "ftp://hooks.example.com/",
      "file:///etc/passwd",
      "https://user:pass@hooks.example.com/",
      "https://user@hooks.example.com/",
      `https://hooks.example.com/${"a".repeat(2048)}`,
      "https://nowhere.test/",
      "https://nothing.test/",
    ]) {
      expect(await refused(url, true), url).toBe("WEBHOOK_URL_INVALID");
    }
  });
});
