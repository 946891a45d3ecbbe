// Where webhooks may go (PRODUCT.md section 10, docs/webhooks.md "SSRF rules"). Checked when an
// endpoint is registered and again by the sender before every attempt, on the addresses the
// name resolves to then, and the sender connects to exactly the checked address (send.ts), so a
// name that re-resolves somewhere else (DNS rebinding) gets nowhere.
//
// Default deny: an address is allowed only when ipaddr.js classes it as ordinary unicast. IPv6
// forms that carry an IPv4 address (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64
// 64:ff9b::/96, 6to4 2002::/16) are judged by that IPv4 address, and their loopback forms are
// refused even with the flag: a real loopback receiver is 127.0.0.1 or ::1.
import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";
import { config } from "@/lib/config";
import { WEBHOOK_URL_MAX_LENGTH } from "@/lib/validation/rules";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;
export interface UrlPolicyOptions {
  resolve?: Resolver;
  /** Default: config KEYWARD_WEBHOOK_ALLOW_PRIVATE (tests set it). Allows loopback, never more. */
  allowPrivate?: boolean;
}
export type UrlCheck =
  | { ok: true; url: URL; addresses: ResolvedAddress[] }
  | { ok: false; code: "WEBHOOK_URL_INVALID" | "WEBHOOK_URL_NOT_ALLOWED"; message: string };

/** Every address the system resolver has for the name (A and AAAA). */
export const systemResolver: Resolver = async (hostname) => {
  const found = await lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

type Verdict = "public" | "loopback" | "refused";

function judgeV4(ip: ipaddr.IPv4): Verdict {
  const range = ip.range();
  if (range === "unicast") return "public";
  if (range === "loopback") return "loopback";
  return "refused";
}

/** The IPv4 address an IPv6 address carries, when it is one of the forms that embed one. */
function embeddedV4(ip: ipaddr.IPv6): ipaddr.IPv4 | null {
  const b = ip.toByteArray();
  const v4 = (from: number) => new ipaddr.IPv4(b.slice(from, from + 4));
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated)
  if (zero(0, 10) && ((b[10] === 0xff && b[11] === 0xff) || (b[10] === 0 && b[11] === 0))) {
    return v4(12);
  }
  // ::ffff:0:a.b.c.d (SIIT, RFC 6145)
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) return v4(12);
  // 64:ff9b::/96 (NAT64, RFC 6052)
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return v4(12);
  // 2002::/16 (6to4): the IPv4 address follows the prefix
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2);
  return null;
}

function judge(address: string): Verdict {
  if (!ipaddr.isValid(address)) return "refused";
  const ip = ipaddr.parse(address);
  if (ip.kind() === "ipv4") return judgeV4(ip as ipaddr.IPv4);
  const v6 = ip as ipaddr.IPv6;
  if (v6.zoneId) return "refused";
  const range = v6.range();
  if (range === "loopback") return "loopback"; // ::1 only (not a "compatible" 0.0.0.1)
  if (range === "unspecified") return "refused";
  const inner = embeddedV4(v6);
  if (inner) return judgeV4(inner) === "public" ? "public" : "refused";
  return range === "unicast" ? "public" : "refused";
}

/** Whether the sender may connect to this address (used again at delivery time). */
export function addressAllowed(address: string, allowPrivate: boolean): boolean {
  const verdict = judge(address);
  return verdict === "public" || (verdict === "loopback" && allowPrivate);
}

const invalid = (message: string): UrlCheck => ({
  ok: false,
  code: "WEBHOOK_URL_INVALID",
  message,
});
const notAllowed = (message: string): UrlCheck => ({
  ok: false,
  code: "WEBHOOK_URL_NOT_ALLOWED",
  message,
});

export async function checkWebhookUrl(raw: string, opts: UrlPolicyOptions = {}): Promise<UrlCheck> {
  const allowPrivate = opts.allowPrivate ?? config().KEYWARD_WEBHOOK_ALLOW_PRIVATE;
  if (typeof raw !== "string" || raw.trim() === "") return invalid("The URL is empty.");
  if (raw.length > WEBHOOK_URL_MAX_LENGTH) {
    return invalid(`The URL is longer than ${WEBHOOK_URL_MAX_LENGTH} characters.`);
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return invalid("The URL is not a valid absolute URL.");
  }
  if (url.href.length > WEBHOOK_URL_MAX_LENGTH) {
    return invalid(`The URL is longer than ${WEBHOOK_URL_MAX_LENGTH} characters.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return invalid("The URL must start with https://.");
  }
  if (url.username || url.password) {
    return invalid("The URL must not contain a user name or password.");
  }
  // WHATWG URL has already turned decimal, octal and hex IPv4 forms into dotted quads and
  // lower-cased the name; IPv6 literals keep their brackets.
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  if (host === "") return invalid("The URL has no host.");

  let addresses: ResolvedAddress[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: ipaddr.parse(host).kind() === "ipv6" ? 6 : 4 }];
  } else {
    try {
      addresses = await (opts.resolve ?? systemResolver)(host);
    } catch {
      return invalid(`The host name ${host} does not resolve.`);
    }
    if (addresses.length === 0) return invalid(`The host name ${host} does not resolve.`);
  }

  for (const a of addresses) {
    if (!addressAllowed(a.address, allowPrivate)) {
      return notAllowed(
        "The URL points to a private, loopback, link-local or otherwise reserved address; " +
          "webhooks go to public addresses only.",
      );
    }
  }
  if (url.protocol === "http:") {
    const allLoopback = addresses.every((a) => judge(a.address) === "loopback");
    if (!(allowPrivate && allLoopback)) {
      return invalid(
        "The URL must start with https:// (http is allowed to loopback in tests only).",
      );
    }
  }
  return { ok: true, url, addresses };
}
