/** Domain names: normalisation and the parents that may list them. */
import { domainToASCII } from "node:url";
import { InvalidInputError, quote } from "../core/mod.ts";

const ASCII_NAME =
  /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
// deno-lint-ignore no-control-regex -- "anything outside ASCII" needs the full range
const NEEDS_IDNA = /[^\x00-\x7f]/;
const IPV4_LIKE = /^[0-9.]+$/;
const NOT_IN_A_NAME = /[\s/\\?#@:%]/;

/**
 * Normalises a domain name: lower case, no trailing dot, internationalised
 * labels in their punycode (`xn--`) form. Rejects anything that is not a host name.
 */
export function normalizeDomain(text: string): string {
  let name = text.length > 0 && text.charCodeAt(text.length - 1) === 46 ? text.slice(0, -1) : text;
  if (NEEDS_IDNA.test(name)) {
    // Only a bare name goes to IDNA: a URL parser would quietly drop a path,
    // port or user-info and answer for a different domain.
    if (NOT_IN_A_NAME.test(name)) {
      throw invalid(text, "expected dot-separated labels of letters, digits, '-' or '_'");
    }
    name = domainToASCII(name);
    if (name === "") throw invalid(text, "not a valid internationalised domain name");
  } else {
    name = name.toLowerCase();
  }
  if (name.length === 0) throw invalid(text, "empty");
  if (name.length > 253) throw invalid(text, `longer than 253 characters (${name.length})`);
  if (IPV4_LIKE.test(name)) throw invalid(text, 'an IP address, look it up as type "ip"');
  if (!ASCII_NAME.test(name)) {
    throw invalid(text, "expected dot-separated labels of letters, digits, '-' or '_'");
  }
  return name;
}

function invalid(text: string, why: string): InvalidInputError {
  return new InvalidInputError("invalid_domain", `Invalid domain ${quote(text)}: ${why}`);
}

/**
 * The name and each parent, most specific first: `a.b.example` gives
 * `a.b.example`, `b.example`, `example`. The most specific listed one wins.
 */
export function domainAndParents(name: string): string[] {
  const out = [name];
  let dot = name.indexOf(".");
  while (dot !== -1) {
    out.push(name.slice(dot + 1));
    dot = name.indexOf(".", dot + 1);
  }
  return out;
}
