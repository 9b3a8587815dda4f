/**
 * Safe Browsing URL canonicalisation and host-suffix/path-prefix expressions, as in
 * developers.google.com/safe-browsing/v4/urls-hashing. The work happens on UTF-8 bytes:
 * the spec unescapes repeatedly, which can produce any byte, not only valid text.
 */
import { domainToASCII } from "node:url";
import { InvalidInputError, quote } from "../errors.ts";
import { formatIp, type IpAddress, parseIp, parseUrlHostIpv4 } from "./ip.ts";

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

const MAX_URL_LENGTH = 8192;
// Schemes whose URLs name a host and path; others ("mailto:", "javascript:") cannot match.
const SCHEMES = new Set(["http", "https", "ftp", "ftps", "ws", "wss"]);
const SCHEME_LIST = "http, https, ftp, ftps, ws or wss";
const TAB_CR_LF = /[\t\n\r]/g;
const DOT_RUNS = /\.{2,}/g;
const DOTTED_IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const NON_ASCII = /[\u0080-\uffff]/;
const HEX = "0123456789ABCDEF";
const HOST_COMPONENTS = 5; // Host suffixes are taken from the last five components only.
const PATH_PREFIXES = 4;

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
// Only ever fed bytes below 0x80, where every single-byte decoder is plain ASCII.
const asciiDecoder = new TextDecoder("ascii");
// One UTF-16 unit encodes to at most three UTF-8 bytes; shared because parsing never yields.
const scratch = new Uint8Array(MAX_URL_LENGTH * 3);

/** Canonicalises a URL the way Safe Browsing does; a URL without scheme is read as http. */
export function canonicalizeUrl(input: string): CanonicalUrl {
  if (input.length === 0) throw urlError(input, 'expected a URL such as "http://example.com/"');
  if (input.length > MAX_URL_LENGTH) {
    throw urlError(input, `longer than ${MAX_URL_LENGTH} characters`);
  }
  const b = unescapedBytes(input);
  let rest = 0;
  let scheme = "http";
  const colon = schemeEnd(b);
  if (colon > 0) {
    scheme = asciiDecoder.decode(b.subarray(0, colon)).toLowerCase();
    if (!SCHEMES.has(scheme)) {
      throw urlError(input, `scheme ${quote(scheme)} is not supported; expected ${SCHEME_LIST}`);
    }
    if (b[colon + 1] !== 0x2f || b[colon + 2] !== 0x2f) {
      throw urlError(input, `expected "//" after ${quote(`${scheme}:`)}`);
    }
    rest = colon + 3;
  }
  const questionMark = b.indexOf(0x3f, rest);
  const pathEnd = questionMark < 0 ? b.length : questionMark;
  let hostEnd = b.indexOf(0x2f, rest);
  if (hostEnd < 0 || hostEnd > pathEnd) hostEnd = pathEnd;
  const host = canonicalHost(input, b, rest, hostEnd);
  const path = canonicalPath(b, hostEnd, pathEnd);
  const query = questionMark < 0 ? null : escapeBytes(b, questionMark + 1, b.length, false);
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
  const url = canonicalizeUrl(input);
  // An empty query never appears among the looked-up expressions, so it is left off here too.
  return url.host + url.path + (url.query ? `?${url.query}` : "");
}

/**
 * Drops the fragment, surrounding whitespace and embedded tab/CR/LF, then percent-unescapes
 * until nothing changes. The result is a view of the shared scratch buffer.
 */
function unescapedBytes(input: string): Uint8Array {
  const hash = input.indexOf("#");
  const text = (hash < 0 ? input : input.slice(0, hash)).trim().replace(TAB_CR_LF, "");
  let length = encoder.encodeInto(text, scratch).written;
  // Each pass that changes anything shortens the bytes, so the loop always ends.
  for (;;) {
    let write = 0;
    for (let read = 0; read < length; write++) {
      if (scratch[read] === 0x25 && read + 2 < length) {
        const high = hexValue(scratch[read + 1]);
        const low = hexValue(scratch[read + 2]);
        if (high >= 0 && low >= 0) {
          scratch[write] = (high << 4) | low;
          read += 3;
          continue;
        }
      }
      scratch[write] = scratch[read++];
    }
    if (write === length) return scratch.subarray(0, length);
    length = write;
  }
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
    // Digits up to "/", "?" or the end make a port, so what came before was a host.
    let j = i + 1;
    while (j < b.length && b[j] >= 0x30 && b[j] <= 0x39) j++;
    const port = j > i + 1 && (j === b.length || b[j] === 0x2f || b[j] === 0x3f);
    return port ? -1 : i;
  }
  return -1;
}

/** Canonicalises b[start, end): user info and port dropped, IDNA, dots, IPs, lower case. */
function canonicalHost(input: string, b: Uint8Array, start: number, end: number): string {
  for (let i = end - 1; i >= start; i--) {
    if (b[i] === 0x40) {
      start = i + 1; // Drop user info up to the last "@".
      break;
    }
  }
  if (b[start] === 0x5b) return bracketedHost(input, b, start, end);
  // Drop a port, even an empty one ("host:").
  let colon = end - 1;
  while (colon >= start && b[colon] >= 0x30 && b[colon] <= 0x39) colon--;
  if (colon >= start && b[colon] === 0x3a) end = colon;
  let text = idnaHost(b.subarray(start, end));
  if (text.includes("..")) text = text.replace(DOT_RUNS, ".");
  let from = 0;
  let to = text.length;
  while (from < to && text.charCodeAt(from) === 0x2e) from++;
  while (to > from && text.charCodeAt(to - 1) === 0x2e) to--;
  if (from === to) throw urlError(input, "expected a host name or IP address");
  text = text.slice(from, to);
  return parseUrlHostIpv4(text) ?? escapeBinary(text, true);
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
  const literal = asciiDecoder.decode(b.subarray(start, close + 1));
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
  if (ascii) return asciiDecoder.decode(bytes);
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return String.fromCharCode(...bytes);
  }
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
  const segments: string[] = [];
  // RFC 3986: a path ending in "/", "/." or "/.." names a directory and keeps its slash.
  let directory = false;
  for (let i = start; i < end;) {
    let j = b.indexOf(0x2f, i);
    if (j < 0 || j > end) j = end;
    const length = j - i;
    const dots = length > 0 && length <= 2 && b[i] === 0x2e && (length === 1 || b[i + 1] === 0x2e);
    if (dots && length === 2) segments.pop();
    if (length > 0 && !dots) segments.push(escapeBytes(b, i, j, false));
    directory = j < end || dots;
    i = j + 1;
  }
  if (segments.length === 0) return "/";
  return `/${segments.join("/")}${directory ? "/" : ""}`;
}

/** Percent-escapes b[start, end) per the spec: bytes <= 32, >= 127, "#" and "%". */
function escapeBytes(b: Uint8Array, start: number, end: number, lower: boolean): string {
  let clean = !lower;
  for (let i = start; clean && i < end; i++) clean = !mustEscape(b[i]);
  if (clean) return asciiDecoder.decode(b.subarray(start, end));
  let out = "";
  for (let i = start; i < end; i++) out += escapedChar(b[i], lower);
  return out;
}

/** Like escapeBytes for a string of one character per byte. */
function escapeBinary(text: string, lower: boolean): string {
  let out = "";
  for (let i = 0; i < text.length; i++) out += escapedChar(text.charCodeAt(i), lower);
  return out;
}

function escapedChar(byte: number, lower: boolean): string {
  if (mustEscape(byte)) return `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  // ASCII only: Latin-1 letters here are stray bytes, not text to case-fold.
  return String.fromCharCode(lower && byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte);
}

function mustEscape(byte: number): boolean {
  return byte <= 0x20 || byte >= 0x7f || byte === 0x23 || byte === 0x25;
}

/** The value of a hex digit byte, or -1. */
function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function urlError(input: string, problem: string, cause?: unknown): InvalidInputError {
  return new InvalidInputError("invalid_url", `Invalid URL ${quote(input)}: ${problem}`, { cause });
}
