/** The object model: what can be looked up and what the node can say about it. */

/** Kinds of object a client can ask about. */
export const OBJECT_TYPES = ["file", "url", "domain", "ip", "cert"] as const;
/** `file` (MD5/SHA-1/SHA-256), `url`, `domain`, `ip` (address or CIDR), `cert` (signing thumbprint). */
export type ObjectType = typeof OBJECT_TYPES[number];

/** Verdicts, in storage order: the index is the stored code. */
export const VERDICTS = [
  "unknown",
  "clean",
  "malicious",
  "phishing",
  "adware",
  "suspicious",
] as const;
/** `adware` is legitimate software that intruders can misuse. */
export type Verdict = typeof VERDICTS[number];

/** Stored verdict code for a verdict name. */
export const VERDICT_CODE: Readonly<Record<Verdict, number>> = Object.freeze(
  Object.fromEntries(VERDICTS.map((v, i) => [v, i])) as Record<Verdict, number>,
);

/** Where a result came from: the synced mirror, this node's operator, or nowhere. */
export type ResultSource = string;

/**
 * Who answered a look-up: a local override, the synced mirror, the parent node just now
 * (`upstream`), the KSN proxy's cache, or nobody (`none`).
 */
export const VIAS = ["override", "mirror", "upstream", "cache", "none"] as const;
/** One of {@link VIAS}. */
export type Via = typeof VIAS[number];

/** Which listing matched a URL, domain or IP look-up (it may be the object itself). */
export interface Match {
  type: ObjectType;
  value: string;
}

/** The answer to one look-up, as the API and the CLI return it. */
export interface LookupResult {
  type: ObjectType;
  value: string;
  verdict: Verdict;
  threat?: string;
  categories?: string[];
  ttl?: number;
  source?: ResultSource;
  override?: boolean;
  firstSeen?: string;
  lastSeen?: string;
  match?: Match;
  /** Who answered; always set. */
  via: Via;
  /**
   * Set while the synced mirror is past its signed expiry (frozen), and on a proxy cache
   * answer past its TTL served because the parent could not be asked.
   */
  stale?: boolean;
  /** Set when the parent did not answer within `proxy.timeoutMs`; the answer is the local one. */
  proxyTimeout?: boolean;
}
