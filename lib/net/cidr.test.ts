import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { cidrWithin, compileAllowlist, ipv4ToUint32, parseCidr } from "./cidr";

describe("parseCidr", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7/32"],
    [" 203.0.113.7/24 ", "203.0.113.0/24"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1/128"],
    ["2001:db8::1/32", "2001:db8::/32"],
    ["::/0", "::/0"],
    ["::ffff:10.1.2.3", "10.1.2.3/32"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["::ffff:0:0/96", "0.0.0.0/0"],
    ["::ffff:0:0/95", "::fffe:0:0/95"],
  ])("%s -> %s", (input, cidr) => {
    expect(parseCidr(input)).toEqual({ ok: true, cidr });
  });

  it.each([
    "",
    "10.0.0",
    "010.0.0.1",
    "0x7f.0.0.1",
    "256.0.0.1",
    "10.0.0.0/33",
    "10.0.0.0/-1",
    "10.0.0.0/",
    "10.0.0.0/8/8",
    "10.0.0.0/ 8",
    "2001:db8::/129",
    "fe80::1%eth0",
    "fe80::1%eth0/64",
    "example.com",
    "2001:db8:::1",
  ])("refuses %j", (input) => {
    expect(parseCidr(input).ok).toBe(false);
  });
});

describe("compileAllowlist", () => {
  const match = compileAllowlist([
    "203.0.113.0/24",
    "198.51.100.7/32",
    "2001:db8::/32",
    "::ffff:192.0.2.0/120",
  ]);

  it.each([
    ["203.0.113.0", true],
    ["203.0.113.255", true],
    ["203.0.114.0", false],
    ["203.0.112.255", false],
    ["198.51.100.7", true],
    ["198.51.100.8", false],
    ["::ffff:203.0.113.9", true],
    ["::ffff:cb00:7109", true],
    ["::ffff:203.0.114.9", false],
    ["192.0.2.77", true],
    ["::ffff:192.0.2.77", true],
    ["2001:db8:ffff::1", true],
    ["2001:db9::1", false],
    ["::1", false],
    ["", false],
    [null, false],
    [undefined, false],
    ["unknown", false],
    ["203.0.113.1 ", false],
    ["fe80::1%eth0", false],
  ])("%j -> %s", (ip, inside) => {
    expect(match(ip)).toBe(inside);
  });

  it("an empty list admits nothing (callers skip the check for keys without a list)", () => {
    expect(compileAllowlist([])("10.0.0.1")).toBe(false);
  });

  it("a short IPv6 network holding the mapped block admits IPv4 addresses", () => {
    expect(compileAllowlist(["::/0"])("10.0.0.1")).toBe(true);
    expect(compileAllowlist(["::ffff:0:0/96"])("10.0.0.1")).toBe(true);
    expect(compileAllowlist(["2001:db8::/32"])("10.0.0.1")).toBe(false);
  });
});

// The reference: every address as a 128-bit BigInt, IPv4 as its mapped form, and a network as
// (address >> (128 - prefix)) equal to (network >> (128 - prefix)).
const MAPPED = 0xffffn << 32n;
const v4Text = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join(".");
const v6Text = (n: bigint) =>
  Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - i * 16)) & 0xffffn).toString(16)).join(
    ":",
  );

type Net = { text: string; value: bigint; prefix: number };

const v4Net = fc
  .tuple(fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }), fc.integer({ min: 0, max: 32 }), fc.boolean())
  .map(
    ([n, p, bare]): Net => ({
      text: bare && p === 32 ? v4Text(n) : `${v4Text(n)}/${p}`,
      value: MAPPED | n,
      prefix: 96 + p,
    }),
  );
const v6Net = fc
  .tuple(fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }), fc.integer({ min: 0, max: 128 }))
  .map(([n, p]): Net => ({ text: `${v6Text(n)}/${p}`, value: n, prefix: p }));

function referenceInside(nets: Net[], address: bigint): boolean {
  return nets.some((net) => {
    const shift = BigInt(128 - net.prefix);
    return address >> shift === net.value >> shift;
  });
}

// Addresses near the networks' edges as well as anywhere, in every written form.
const address = (nets: Net[]) =>
  fc
    .oneof(
      fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }),
      fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }).map((n) => MAPPED | n),
      fc
        .tuple(fc.constantFrom(...nets), fc.bigInt({ min: -2n, max: 2n }), fc.boolean())
        .map(([net, delta, top]) => {
          const size = 1n << BigInt(128 - net.prefix);
          const base = (net.value >> BigInt(128 - net.prefix)) << BigInt(128 - net.prefix);
          const n = (top ? base + size - 1n : base) + delta;
          return ((n % 2n ** 128n) + 2n ** 128n) % 2n ** 128n;
        }),
    )
    .chain((n) => {
      const forms = [fc.constant(v6Text(n))];
      if (n >> 32n === 0xffffn) {
        const low = n & 0xffffffffn;
        forms.push(fc.constant(v4Text(low)), fc.constant(`::ffff:${v4Text(low)}`));
      }
      return fc.oneof(...forms).map((text) => ({ n, text }));
    });

describe("compileAllowlist against a BigInt reference", () => {
  it("agrees on every address, IPv4, IPv6 and IPv4-mapped", () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.oneof(v4Net, v6Net), { minLength: 1, maxLength: 8 })
          .chain((nets) => fc.tuple(fc.constant(nets), fc.array(address(nets), { maxLength: 20 }))),
        ([nets, addresses]) => {
          const match = compileAllowlist(
            nets.map((n) => {
              const r = parseCidr(n.text);
              if (!r.ok) throw new Error(`${n.text}: ${r.message}`);
              return r.cidr;
            }),
          );
          for (const a of addresses) {
            expect(match(a.text), `${a.text} in ${nets.map((n) => n.text).join(", ")}`).toBe(
              referenceInside(nets, a.n),
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("normalizing keeps the network: the normalized CIDR holds exactly what the input held", () => {
    fc.assert(
      fc.property(fc.oneof(v4Net, v6Net), (net) => {
        const r = parseCidr(net.text);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        // Parsing the normalized form again changes nothing.
        expect(parseCidr(r.cidr)).toEqual(r);
      }),
      { numRuns: 300 },
    );
  });
});

describe("cidrWithin", () => {
  it.each([
    ["10.1.0.0/16", ["10.0.0.0/8"], true],
    ["10.0.0.0/8", ["10.0.0.0/8"], true],
    ["10.0.0.0/7", ["10.0.0.0/8"], false],
    ["11.0.0.0/8", ["10.0.0.0/8"], false],
    ["10.0.0.0/23", ["10.0.0.0/24", "10.0.1.0/24"], false],
    ["192.0.2.7/32", ["::ffff:0:0/96"], true],
    ["192.0.2.0/24", ["2001:db8::/32"], false],
    ["2001:db8:1::/48", ["2001:db8::/32"], true],
    ["2001:db8::/31", ["2001:db8::/32"], false],
    ["not a network", ["0.0.0.0/0"], false],
  ] as const)("%s inside %j: %s", (inner, outer, expected) => {
    expect(cidrWithin(inner, outer)).toBe(expected);
  });
});

describe("ipv4ToUint32 (the matcher's IPv4 fast path)", () => {
  const byIpaddr = (text: string) => {
    if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return -1;
    const o = ipaddr.IPv4.parse(text).octets;
    return ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
  };

  it("takes exactly the strings ipaddr.js takes as four-part decimal, with the same value", () => {
    const part = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.constantFrom("", "00", "01", "007", "256", "999", "-1", " 1", "1 ", "a", "0x1"),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 6 }), (parts) => {
        const text = parts.join(".");
        expect(ipv4ToUint32(text)).toBe(byIpaddr(text));
      }),
      { numRuns: 5000 },
    );
    for (const text of [
      "0.0.0.0",
      "255.255.255.255",
      "203.0.113.7",
      "1.2.3",
      "1.2.3.4.",
      ".1.2.3",
      "1..2.3",
      "::1",
      "",
    ]) {
      expect(ipv4ToUint32(text), text).toBe(byIpaddr(text));
    }
  });
});
