// IP allowlists: parsing and normalizing CIDRs (the key dialogs, the API and the CLI check a list
// with the same function), and the matcher verify runs, built once per cached key.
//
// One model of addresses throughout: an IPv4 address IS its IPv4-mapped IPv6 form
// (::ffff:a.b.c.d), so `10.0.0.0/8` admits `::ffff:10.1.2.3`, and `::ffff:10.0.0.0/104` is stored
// as `10.0.0.0/8`. No third-party runtime import beyond ipaddr.js: client components use this file.
import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** An address as text: IPv4 in four decimal parts, or IPv6 (no zone id); else null. */
export function parseAddress(text: string): Address | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  // A zone id (`fe80::1%eth0`) names an interface of the machine that saw it, not a network.
  if (text.includes(":") && !text.includes("%") && ipaddr.IPv6.isValid(text)) {
    const v6 = ipaddr.IPv6.parse(text);
    return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
  }
  return null;
}

export type CidrResult = { ok: true; cidr: string } | { ok: false; message: string };

export const CIDR_MESSAGE =
  "Use an IPv4 or IPv6 address or network, e.g. 203.0.113.0/24 or 2001:db8::/32.";

/**
 * `text` as a normalized CIDR: the network address (host bits cleared) and its prefix, IPv6 in
 * its short form, a bare address as /32 or /128, an IPv4-mapped IPv6 network of /96 or longer
 * as the IPv4 network it is.
 */
export function parseCidr(text: string): CidrResult {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  const addressText = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash === -1 ? null : trimmed.slice(slash + 1);
  if (!ipaddr.IPv4.isValidFourPartDecimal(addressText) && !addressText.includes(":")) {
    return { ok: false, message: CIDR_MESSAGE };
  }
  if (addressText.includes("%") || !ipaddr.isValid(addressText)) {
    return { ok: false, message: CIDR_MESSAGE };
  }
  let address: Address = ipaddr.parse(addressText);
  const bits = address.kind() === "ipv4" ? 32 : 128;
  if (prefixText !== null && !/^\d{1,3}$/.test(prefixText)) {
    return { ok: false, message: CIDR_MESSAGE };
  }
  let prefix = prefixText === null ? bits : Number(prefixText);
  if (prefix > bits) {
    return {
      ok: false,
      message: `The prefix length of an IPv${bits === 32 ? 4 : 6} network is 0 to ${bits}.`,
    };
  }
  if (address.kind() === "ipv6" && prefix >= 96 && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    address = (address as ipaddr.IPv6).toIPv4Address();
    prefix -= 96;
  }
  return { ok: true, cidr: `${networkOf(address, prefix).toString()}/${prefix}` };
}

function networkOf(address: Address, prefix: number): Address {
  const bytes = address.toByteArray().map((byte, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
  return ipaddr.fromByteArray(bytes);
}

/** True when `ip` is inside one of the networks; a missing or unparsable `ip` is never inside. */
export type AllowlistMatcher = (ip: string | null | undefined) => boolean;

const toUint32 = (a: ipaddr.IPv4) =>
  ((a.octets[0]! << 24) | (a.octets[1]! << 16) | (a.octets[2]! << 8) | a.octets[3]!) >>> 0;

/**
 * A four-part decimal IPv4 address as an unsigned 32-bit integer, or -1 when `text` is not one
 * (the same strings ipaddr.js's isValidFourPartDecimal takes: no leading zeros, each part at most
 * 255). The matcher's fast path: no objects for the common case of an IPv4 client.
 */
export function ipv4ToUint32(text: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? 46 : text.charCodeAt(i); // the end closes the last part
    if (c === 46) {
      if (digits === 0 || parts === 4) return -1;
      n = n * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // a leading zero
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  return parts === 4 ? n : -1;
}

/**
 * The matcher for normalized CIDRs (as `parseCidr` gives them). Built once when a key is cached;
 * per request it parses the address once, then compares 32-bit integers for IPv4 networks.
 * An entry that does not parse (never stored by the service) admits nothing.
 */
export function compileAllowlist(cidrs: readonly string[]): AllowlistMatcher {
  const v4: Array<[network: number, mask: number]> = [];
  const v6: Array<[ipaddr.IPv6, number]> = [];
  for (const cidr of cidrs) {
    const r = parseCidr(cidr);
    if (!r.ok) continue;
    const [address, prefix] = ipaddr.parseCIDR(r.cidr);
    if (address.kind() === "ipv4") {
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      v4.push([(toUint32(address as ipaddr.IPv4) & mask) >>> 0, mask]);
    } else {
      v6.push([address as ipaddr.IPv6, prefix]);
    }
  }
  // IPv6 networks that hold the IPv4-mapped block (::ffff:0:0/96) can admit an IPv4 client;
  // without any, an IPv4 client is decided by the 32-bit comparisons alone.
  const mappedBlock = ipaddr.IPv6.parse("::ffff:0.0.0.0");
  const v4Only = !v6.some(([range, prefix]) => prefix <= 96 && mappedBlock.match(range, prefix));
  return (ip) => {
    if (!ip) return false;
    if (v4Only) {
      const n = ipv4ToUint32(ip);
      if (n >= 0) {
        for (const [network, mask] of v4) if ((n & mask) >>> 0 === network) return true;
        return false;
      }
    }
    const address = parseAddress(ip);
    if (!address) return false;
    if (address.kind() === "ipv4") {
      const n = toUint32(address as ipaddr.IPv4);
      for (const [network, mask] of v4) if ((n & mask) >>> 0 === network) return true;
      if (v6.length === 0) return false;
      // An IPv6 network shorter than /96 can hold the IPv4-mapped block.
      const mapped = (address as ipaddr.IPv4).toIPv4MappedAddress();
      return v6.some((range) => mapped.match(range));
    }
    return v6.some((range) => (address as ipaddr.IPv6).match(range));
  };
}

/**
 * True when the network `inner` (normalized, as `parseCidr` gives it) lies wholly inside one of
 * `outer`: the privilege ceiling's test that a key fenced to some networks grants no wider fence.
 * A block covered only by several outer networks together is not "inside": ask for the parts.
 */
export function cidrWithin(inner: string, outer: readonly string[]): boolean {
  const r = parseCidr(inner);
  if (!r.ok) return false;
  const [address, prefix] = ipaddr.parseCIDR(r.cidr);
  for (const o of outer) {
    const p = parseCidr(o);
    if (!p.ok) continue;
    const [range, rangePrefix] = ipaddr.parseCIDR(p.cidr);
    if (address.kind() === range.kind()) {
      if (prefix >= rangePrefix && address.match(range, rangePrefix)) return true;
    } else if (address.kind() === "ipv4") {
      // An IPv4 network inside an IPv6 range holding the IPv4-mapped block (::ffff:0:0/96).
      const mapped = (address as ipaddr.IPv4).toIPv4MappedAddress();
      if (prefix + 96 >= rangePrefix && mapped.match(range, rangePrefix)) return true;
    }
  }
  return false;
}
