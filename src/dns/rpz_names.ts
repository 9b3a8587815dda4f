/**
 * RPZ records for listed keys: which entries make a policy (malicious and phishing ones block,
 * local `clean` overrides pass), and the owner names that carry it. A domain is listed with its
 * subdomains (a look-up matches a domain and its parents), so it gets the name and its wildcard;
 * an IP network becomes an `rpz-ip` trigger.
 */
import { decodeKey, TYPE_BYTE, VERDICT_CODE } from "../reputation/mod.ts";
import { ORIGIN_LOCAL, type WinningRow } from "../store/mod.ts";

/** The policy of a record: answer NXDOMAIN (`CNAME .`) or let the answer through. */
export const RPZ_ACTION = { block: 0, passthru: 1 } as const;
/** One of {@link RPZ_ACTION}'s values. */
export type RpzAction = typeof RPZ_ACTION[keyof typeof RPZ_ACTION];

/** The CNAME target each action is written as. */
export const ACTION_TARGET: Readonly<Record<RpzAction, string>> = {
  [RPZ_ACTION.block]: ".",
  [RPZ_ACTION.passthru]: "rpz-passthru.",
};

/** Verdicts that block whoever holds them, and those that pass when a local override says so. */
export const RPZ_VERDICTS: { anyOrigin: number[]; localOnly: number[] } = {
  anyOrigin: [VERDICT_CODE.malicious, VERDICT_CODE.phishing],
  localOnly: [VERDICT_CODE.clean],
};

/** The lead bytes of the keys a zone is built from. */
export function rpzLeads(ips: boolean): number[] {
  return ips ? [TYPE_BYTE.domain, TYPE_BYTE.ip] : [TYPE_BYTE.domain];
}

/** The action of a winning row that {@link RPZ_VERDICTS} selected. */
export function actionOf(row: WinningRow): RpzAction {
  return row.origin === ORIGIN_LOCAL && row.verdict === VERDICT_CODE.clean
    ? RPZ_ACTION.passthru
    : RPZ_ACTION.block;
}

const LABEL = /^[a-z0-9_-]{1,63}$/;
// A name's text form holds at most 253 characters (255 bytes on the wire).
const MAX_NAME = 253;

/**
 * The owner names (without the final dot) that carry `key`'s policy in `zone`, or an empty list
 * when its name would not fit in DNS (a domain near 253 characters under a long zone name).
 */
export function ownerNames(key: Uint8Array, zone: string): string[] {
  const { type, value } = decodeKey(key);
  if (type === "domain") {
    if (!value.split(".").every((label) => LABEL.test(label))) return [];
    const name = `${value}.${zone}`;
    return name.length + 2 > MAX_NAME ? [] : [name, `*.${name}`];
  }
  if (type === "ip") return [`${ipTrigger(value)}.rpz-ip.${zone}`];
  return [];
}

/**
 * An address or network as an RPZ IP trigger: the prefix length, then the address's parts in
 * reverse order; IPv6 groups in hex without leading zeros, the longest run of zero groups as `zz`.
 */
export function ipTrigger(text: string): string {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const v6 = address.includes(":");
  const prefix = slash < 0 ? (v6 ? 128 : 32) : Number(text.slice(slash + 1));
  if (!v6) return [prefix, ...address.split(".").reverse()].join(".");
  const groups = expandIpv6(address).reverse();
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j;
  }
  const parts = best < 0
    ? groups
    : [...groups.slice(0, best), "zz", ...groups.slice(best + bestLength)];
  return [prefix, ...parts].join(".");
}

/** The eight groups of an IPv6 address in text form, each in hex without leading zeros. */
function expandIpv6(address: string): string[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = text.slice(0, dotted.index) +
      `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : new Array(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}
