/**
 * URL canonicalisation for look-ups. The URL is first split the way browsers split it (the
 * WHATWG URL standard: a backslash is a slash in special schemes, any run of slashes after the scheme,
 * user info up to the last "@", tab and newline removed), so the host looked up is the host a
 * client would visit. Each part is then canonicalised as Safe Browsing specifies
 * (developers.google.com/safe-browsing/v4/urls-hashing) and turned into host-suffix/path-prefix
 * expressions. The work happens on UTF-8 bytes: unescaping can produce any byte, not only
 * valid text. Every step is linear in the input, which is capped at 8,192 characters.
 */
import { domainToASCII } from "node:url";
import { InvalidInputError, quote } from "../core/mod.ts";
import { formatIp, type IpAddress, parseIp, parseUrlHostIpv4 } from "./ip.ts";
import {
  decodeAscii,
  escapeBinary,
  escapeBytes,
  escapedText,
  escapeInto,
  MAX_URL_LENGTH,
  putByte,
  scratch,
  unescape,
} from "./_url_bytes.ts";

export { MAX_URL_LENGTH };

/** A URL in Safe Browsing canonical form, split into the parts lookups need. */
export interface CanonicalUrl {
  /** Lower-case scheme; "http" when the input had none. */
  scheme: string;
  /** Canonical host: lower-case, dots collapsed, IP addresses normalised, escaped. */
  host: string;
  /** Canonical path, always starting with "/". */
  path: string;
  /** Query without "?", "" for a bare "?", null when there was none. */
  query: string | null;
  /** scheme://host + path (+ "?" + query); port, user info and fragment are dropped. */
  url: string;
}

/** The longest canonical host accepted: a DNS name has at most 253 characters. */
export const MAX_HOST_LENGTH = 253;
// Schemes whose URLs name a host and path; others ("mailto:", "javascript:") cannot match.
// All are split as WHATWG splits its special schemes (ftps is not one there, but its URLs
// have the same shape, and reading a backslash as a slash can only make it match what a client visits).
const SCHEMES = new Set(["http", "https", "ftp", "ftps", "ws", "wss"]);
const SCHEME_LIST = "http, https, ftp, ftps, ws or wss";
const TAB_CR_LF = /[\t\n\r]/g;
// WHATWG strips leading and trailing C0 controls and spaces; Safe Browsing trims whitespace.
// deno-lint-ignore no-control-regex -- C0 controls are exactly what is stripped
const EDGE_SPACE = /^[\x00-\x20\s]+|[\x00-\x20\s]+$/g;
const DOT_RUNS = /\.{2,}/g;
const DOTTED_IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const NON_ASCII = /[\u0080-\uffff]/;
const HOST_COMPONENTS = 5; // Host suffixes are taken from the last five components only.
const PATH_PREFIXES = 4;
const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const QUESTION = 0x3f;
const AT = 0x40;
const COLON = 0x3a;

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Canonicalises a URL the way Safe Browsing does; a URL without scheme is read as http. */
export function canonicalizeUrl(input: string): CanonicalUrl {
  if (input.length === 0) throw urlError(input, 'expected a URL such as "http://example.com/"');
  if (input.length > MAX_URL_LENGTH) {
    throw urlError(input, `longer than ${MAX_URL_LENGTH} characters`);
  }
  const hash = input.indexOf("#");
  const text = (hash < 0 ? input : input.slice(0, hash)).replace(TAB_CR_LF, "")
    .replace(EDGE_SPACE, "");
  let b = scratch.subarray(0, encoder.encodeInto(text, scratch).written);
  let scheme = "http";
  let rest = 0;
  let colon = schemeEnd(b);
  if (colon < 0) {
    // Without a scheme this is no URL a browser would open; Safe Browsing unescapes it
    // whole first, which can reveal one ("http%3A%2F%2Fhost/").
    b = b.subarray(0, unescape(b, 0, b.length));
    colon = schemeEnd(b);
  }
  if (colon > 0) {
    scheme = decodeAscii(b.subarray(0, colon)).toLowerCase();
    if (!SCHEMES.has(scheme)) {
      throw urlError(input, `scheme ${quote(scheme)} is not supported; expected ${SCHEME_LIST}`);
    }
    // WHATWG skips every slash and backslash between a special scheme and its host.
    rest = colon + 1;
    while (rest < b.length && (b[rest] === SLASH || b[rest] === BACKSLASH)) rest++;
  }
  // The host ends at the first slash, backslash or "?" (the fragment is already gone).
  let hostEnd = rest;
  while (hostEnd < b.length && !endsAuthority(b[hostEnd])) hostEnd++;
  const host = canonicalHost(input, b, rest, hostEnd);
  for (let i = hostEnd; i < b.length && b[i] !== QUESTION; i++) {
    if (b[i] === BACKSLASH) b[i] = SLASH;
  }
  // Path and query are unescaped together and split after, as Safe Browsing does.
  const end = unescape(b, hostEnd, b.length);
  const questionMark = b.subarray(0, end).indexOf(QUESTION, hostEnd);
  const pathEnd = questionMark < 0 ? end : questionMark;
  const path = canonicalPath(b, hostEnd, pathEnd);
  const query = questionMark < 0 ? null : escapeBytes(b, questionMark + 1, end, false);
  const url = `${scheme}://${host}${path}${query === null ? "" : `?${query}`}`;
  return { scheme, host, path, query, url };
}

/** Lists the host-suffix/path-prefix expressions to look up for a URL, most specific first. */
export function urlExpressions(url: CanonicalUrl): string[] {
  const hosts = [url.host];
  // IP addresses are looked up only as themselves; names also by their shorter suffixes.
  if (url.host.charCodeAt(0) !== 0x5b && !DOTTED_IPV4.test(url.host)) {
    const dots: number[] = [];
    for (let i = url.host.indexOf("."); i >= 0; i = url.host.indexOf(".", i + 1)) dots.push(i);
    // Suffixes have two to five components; the top-level domain alone is never listed.
    for (let d = Math.max(0, dots.length - HOST_COMPONENTS); d < dots.length - 1; d++) {
      hosts.push(url.host.slice(dots[d] + 1));
    }
  }
  const path = url.path;
  const paths = url.query ? [`${path}?${url.query}`, path] : [path];
  const slashes: number[] = [];
  for (let i = 0; i >= 0 && slashes.length < PATH_PREFIXES; i = path.indexOf("/", i + 1)) {
    slashes.push(i);
  }
  for (let s = slashes.length - 1; s >= 0; s--) {
    // A prefix as long as the path would repeat the exact path.
    if (slashes[s] + 1 < path.length) paths.push(path.slice(0, slashes[s] + 1));
  }
  const expressions: string[] = [];
  for (const host of hosts) for (const p of paths) expressions.push(host + p);
  return expressions;
}

/** Canonicalises a listed URL ("evil.example/a/") to the expression that lookups produce. */
export function urlExpression(input: string): string {
  return expressionOf(canonicalizeUrl(input));
}

/** The expression a canonical URL is listed under: host, path and a non-empty query. */
export function expressionOf(url: CanonicalUrl): string {
  // An empty query never appears among the looked-up expressions, so it is left off here too.
  return url.host + url.path + (url.query ? `?${url.query}` : "");
}

/** Whether a byte ends the authority (user info, host and port) of a URL. */
function endsAuthority(byte: number): boolean {
  return byte === SLASH || byte === BACKSLASH || byte === QUESTION;
}

/** Finds the ":" that ends a scheme, or -1 when the URL starts with a host ("host:80/"). */
function schemeEnd(b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    const lower = c | 0x20;
    if (lower >= 0x61 && lower <= 0x7a) continue;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === 0) return -1;
      continue;
    }
    if (c !== 0x3a) return -1;
    // A scheme this node reads is one, as for a browser ("http:255" is host 255).
    if (SCHEMES.has(decodeAscii(b.subarray(0, i)).toLowerCase())) return i;
    // Otherwise digits up to a slash, backslash, "?" or the end make a port: what came before was a
    // host ("example.com:8080/"), as Safe Browsing reads a URL without scheme.
    let j = i + 1;
    while (j < b.length && b[j] >= 0x30 && b[j] <= 0x39) j++;
    const port = j > i + 1 && (j === b.length || endsAuthority(b[j]));
    return port ? -1 : i;
  }
  return -1;
}

/**
 * Canonicalises the authority b[start, end): user info and port dropped as WHATWG drops them,
 * then unescaped, IDNA, dots, IPs and lower case as Safe Browsing does.
 */
function canonicalHost(input: string, b: Uint8Array, start: number, end: number): string {
  for (let i = end - 1; i >= start; i--) {
    if (b[i] === AT) {
      start = i + 1; // Drop user info up to the last "@".
      break;
    }
  }
  if (b[start] === 0x5b) return bracketedHost(input, b, start, end);
  // The port starts at the first ":"; it may be empty ("host:") but only holds digits.
  const colon = b.subarray(0, end).indexOf(COLON, start);
  if (colon >= 0) {
    for (let i = colon + 1; i < end; i++) {
      if (b[i] < 0x30 || b[i] > 0x39) {
        const port = new TextDecoder().decode(b.subarray(colon + 1, end));
        throw urlError(input, `port ${quote(port)} is not a number`);
      }
    }
    end = colon;
  }
  let text = idnaHost(b.subarray(start, unescape(b, start, end)));
  if (text.includes("..")) text = text.replace(DOT_RUNS, ".");
  let from = 0;
  let to = text.length;
  while (from < to && text.charCodeAt(from) === 0x2e) from++;
  while (to > from && text.charCodeAt(to - 1) === 0x2e) to--;
  if (from === to) throw urlError(input, "expected a host name or IP address");
  text = text.slice(from, to);
  const host = parseUrlHostIpv4(text) ?? escapeBinary(text, true);
  if (host.length > MAX_HOST_LENGTH) {
    // No DNS name is longer, so no client can visit it; refusing also bounds the work.
    throw urlError(input, `host is longer than ${MAX_HOST_LENGTH} characters`);
  }
  return host;
}

/** Canonicalises "[v6]" or "[v6]:port"; IPv4-mapped and NAT64 addresses become plain IPv4. */
function bracketedHost(input: string, b: Uint8Array, start: number, end: number): string {
  const close = b.indexOf(0x5d, start);
  if (close < 0 || close >= end) throw urlError(input, 'expected "]" to close the IPv6 host');
  for (let i = close + 1; i < end; i++) {
    if (i === close + 1 ? b[i] !== 0x3a : b[i] < 0x30 || b[i] > 0x39) {
      throw urlError(input, 'expected only a port after the "]" of the IPv6 host');
    }
  }
  const literal = decodeAscii(b.subarray(start, close + 1));
  let address: IpAddress;
  try {
    address = parseIp(literal);
  } catch (cause) {
    throw urlError(input, `host ${quote(literal)} is not an IPv6 address`, cause);
  }
  const bytes = address.bytes;
  // The current Safe Browsing spec also unwraps the NAT64 well-known prefix 64:ff9b::/96.
  if (address.family === 6 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b) {
    if (bytes[0] === 0 && bytes.subarray(4, 12).every((byte) => byte === 0)) {
      return formatIp({ family: 4, bytes: bytes.slice(12) });
    }
  }
  return address.family === 4 ? formatIp(address) : `[${formatIp(address)}]`;
}

/**
 * Returns host bytes as a string of one character per byte, with non-ASCII labels in
 * punycode. Labels that IDNA rejects (or bytes that are not UTF-8) stay as raw bytes, to be
 * percent-escaped, so that every input still has exactly one canonical form.
 */
function idnaHost(bytes: Uint8Array): string {
  let ascii = true;
  for (let i = 0; ascii && i < bytes.length; i++) ascii = bytes[i] < 0x80;
  if (ascii) return decodeAscii(bytes);
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return String.fromCharCode(...bytes);
  }
  // Whole, as WHATWG maps it (a character it drops can leave an empty label); label by
  // label only when the whole name is refused, keeping what can be kept.
  const whole = domainToASCII(text);
  if (whole !== "") return whole;
  const labels = text.split(".");
  for (let i = 0; i < labels.length; i++) {
    if (!NON_ASCII.test(labels[i])) continue;
    const ascii = domainToASCII(labels[i]);
    labels[i] = ascii === "" ? String.fromCharCode(...encoder.encode(labels[i])) : ascii;
  }
  return labels.join(".");
}

/** Resolves "." and ".." segments and collapses slashes in b[start, end), then escapes. */
function canonicalPath(b: Uint8Array, start: number, end: number): string {
  // Segment bounds, in pairs: a path of thousands of segments is still decoded once.
  const bounds: number[] = [];
  // RFC 3986: a path ending in "/", "/." or "/.." names a directory and keeps its slash.
  let directory = false;
  for (let i = start; i < end;) {
    let j = b.indexOf(SLASH, i);
    if (j < 0 || j > end) j = end;
    const length = j - i;
    const dots = length > 0 && length <= 2 && b[i] === 0x2e && (length === 1 || b[i + 1] === 0x2e);
    if (dots && length === 2) bounds.length = Math.max(0, bounds.length - 2);
    if (length > 0 && !dots) bounds.push(i, j);
    directory = j < end || dots;
    i = j + 1;
  }
  if (bounds.length === 0) return "/";
  let at = 0;
  for (let s = 0; s < bounds.length; s += 2) {
    at = putByte(SLASH, at);
    for (let i = bounds[s]; i < bounds[s + 1]; i++) at = escapeInto(b[i], false, at);
  }
  if (directory) at = putByte(SLASH, at);
  return escapedText(at);
}

function urlError(input: string, problem: string, cause?: unknown): InvalidInputError {
  return new InvalidInputError("invalid_url", `Invalid URL ${quote(input)}: ${problem}`, { cause });
}
