/**
 * The keys a URL, domain or IP look-up may be listed under, most specific first.
 * Each candidate carries only its index prefix and what is needed to build its
 * key later: most candidates are ruled out by the index and never need one.
 */
import { domainAndParents } from "./domain.ts";
import { formatNetwork, type IpFamily, type IpNetwork, maskTo, parseNetwork } from "./ip.ts";
import { fnv1a, fnv1aText, ipKeyFromPayload, ipPayload, textKey } from "./keys.ts";
import type { ReputationIndex } from "./reputation_index.ts";
import type { Match } from "./types.ts";
import { type CanonicalUrl, urlExpressions } from "./url.ts";

/** One place a listing may be stored under. */
export interface Candidate {
  prefix: number;
  type: "url" | "domain" | "ip";
  /** The URL expression or domain; null for an IP network. */
  text: string | null;
  /** For an IP network: masked address and prefix length. */
  payload: Uint8Array | null;
  family: IpFamily;
}

/** The stored key of a candidate. */
export function candidateKey(c: Candidate): Uint8Array {
  return c.text !== null
    ? textKey(c.type as "url" | "domain", c.text)
    : ipKeyFromPayload(c.payload!);
}

/** What a result reports as matched for a candidate. */
export function candidateMatch(c: Candidate): Match {
  if (c.text !== null) return { type: c.type, value: c.text };
  const payload = c.payload!;
  const bytes = payload.subarray(0, payload.length - 1);
  return {
    type: "ip",
    value: formatNetwork({ family: c.family, bytes, prefix: payload[payload.length - 1] }),
  };
}

const DOTTED_DECIMAL = /^\d{1,3}(?:\.\d{1,3}){3}$/;
// What normalizeDomain accepts, for hosts already lower-cased by canonicalisation.
const PLAIN_HOST =
  /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

function textCandidate(type: "url" | "domain", text: string): Candidate {
  return { prefix: fnv1aText(text), type, text, payload: null, family: 4 };
}

/** A domain and each parent. */
export function domainCandidates(name: string, out: Candidate[] = []): Candidate[] {
  for (const d of domainAndParents(name)) out.push(textCandidate("domain", d));
  return out;
}

/** The network masked to each listed prefix length no longer than its own, longest first. */
export function networkCandidates(
  net: IpNetwork,
  index: ReputationIndex,
  out: Candidate[] = [],
): Candidate[] {
  const lengths = net.family === 4 ? index.ipv4Lengths : index.ipv6Lengths;
  for (const length of lengths) {
    if (length > net.prefix) continue;
    const payload = ipPayload(maskTo(net.bytes, length), length);
    out.push({ prefix: fnv1a(payload), type: "ip", text: null, payload, family: net.family });
  }
  return out;
}

/**
 * A URL's Safe Browsing expressions, then the listings of its host: a URL is
 * also as bad as the domain or network it lives on.
 */
export function urlCandidates(url: CanonicalUrl, index: ReputationIndex): Candidate[] {
  const out = urlExpressions(url).map((e) => textCandidate("url", e));
  // Canonical hosts are either bracketed IPv6, dotted-decimal IPv4 or names;
  // telling them apart up front avoids throwing (and catching) on every URL.
  if (url.host.startsWith("[") || DOTTED_DECIMAL.test(url.host)) {
    const host = url.host.startsWith("[") ? url.host.slice(1, -1) : url.host;
    try {
      networkCandidates(parseNetwork(host), index, out);
    } catch {
      // Not an address after all: no network listings apply.
    }
  } else if (PLAIN_HOST.test(url.host)) {
    domainCandidates(url.host, out);
  }
  return out;
}
