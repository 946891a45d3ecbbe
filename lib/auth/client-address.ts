// The client's address as seen by the app, for sign-in throttling and audit rows.
// The last X-Forwarded-For entry is the hop that connected to us (a proxy appends the address
// it saw; server.ts should set the header from the socket when no proxy is in front), so a
// client cannot pick its own address by sending the header.
import { isIP } from "node:net";

type HeaderSource = { get(name: string): string | null };

// Only an IP address is used (and stored in audit rows): anything else a misconfigured proxy
// lets through (a name, a port, kilobytes of text) counts as "unknown".
const address = (value: string | undefined) => (value && isIP(value) ? value : undefined);

export function clientAddress(headers: HeaderSource): string {
  const forwarded = headers.get("x-forwarded-for");
  if (forwarded) {
    const parts = forwarded
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    const last = parts[parts.length - 1];
    if (last) return address(last) ?? "unknown";
  }
  return address(headers.get("x-real-ip")?.trim()) ?? "unknown";
}
