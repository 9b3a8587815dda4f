/**
 * What a name under the look-up zone asks about, in the forms mail and network gear already
 * speak: `<md5|sha1>.ZONE` and `<sha256 first 32 hex>.<last 32 hex>.ZONE` (Team Cymru's MHR),
 * `<reversed IPv4>.ZONE` and `<reversed IPv6 nibbles>.ZONE` (DNSBL), and `<domain>.ZONE`.
 */
import type { ObjectType } from "../reputation/mod.ts";

/** A look-up a query name asks for. */
export interface NameLookup {
  type: ObjectType;
  value: string;
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX40 = /^[0-9a-f]{40}$/;
const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const NIBBLE = /^[0-9a-f]$/;

/**
 * The look-up that `relative` (the query name without the zone, lower case, no final dot) asks
 * for, or null for a name no look-up has (such a name does not exist in the zone).
 */
export function nameLookup(relative: string): NameLookup | null {
  if (relative === "") return null;
  const labels = relative.split(".");
  if (labels.length === 1) {
    return HEX32.test(labels[0]) || HEX40.test(labels[0])
      ? { type: "file", value: labels[0] }
      : null; // a single label is no domain that can be listed with a dot in it
  }
  if (labels.length === 2 && HEX32.test(labels[0]) && HEX32.test(labels[1])) {
    return { type: "file", value: labels[0] + labels[1] };
  }
  if (labels.length === 4 && labels.every((l) => OCTET.test(l) && Number(l) <= 255)) {
    return { type: "ip", value: labels.reverse().join(".") };
  }
  if (labels.length === 32 && labels.every((l) => NIBBLE.test(l))) {
    const hex = labels.reverse().join("");
    return { type: "ip", value: hex.match(/.{4}/g)!.join(":") };
  }
  return { type: "domain", value: relative };
}

/**
 * `name` (as asked, any case) relative to `zone` (lower case, no final dot): the labels before
 * the zone in lower case, "" for the zone's own name, or null for a name outside the zone.
 */
export function relativeName(name: string, zone: string): string | null {
  const lower = name.toLowerCase().replace(/\.$/, "");
  if (lower === zone) return "";
  if (
    lower.length > zone.length && lower.endsWith(zone) &&
    lower[lower.length - zone.length - 1] === "."
  ) {
    return lower.slice(0, lower.length - zone.length - 1);
  }
  return null;
}
