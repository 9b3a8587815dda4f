/** The normalised form of a value, as look-up results show it and caches key it. */
import { scanDigest, scanThumbprint } from "./hash.ts";
import { normalizeDomain } from "./domain.ts";
import { formatIp, formatNetwork, type IpNetwork, parseNetwork } from "./ip.ts";
import { canonicalizeUrl } from "./url.ts";
import type { ObjectType } from "./types.ts";

/** An address or network as results show it: a bare address for a single host. */
export function networkText(net: IpNetwork): string {
  return net.prefix === (net.family === 4 ? 32 : 128) ? formatIp(net) : formatNetwork(net);
}

/** `value` normalised as a look-up of `type` shows it; throws `InvalidInputError` when malformed. */
export function canonicalValue(type: ObjectType, value: string): string {
  switch (type) {
    case "file":
      return scanDigest(value).hex;
    case "cert":
      return scanThumbprint(value).hex;
    case "domain":
      return normalizeDomain(value);
    case "ip":
      return networkText(parseNetwork(value));
    case "url":
      return canonicalizeUrl(value).url;
  }
}
