/**
 * IP addresses and CIDR networks: strict parsing of what operators and clients send,
 * canonical formatting, masking, and the lenient IPv4 host parsing that Safe Browsing
 * URL canonicalisation needs. Parsers walk character codes instead of splitting, because
 * they run for every request.
 *
 * Over 300 lines on purpose: IPv4 and IPv6 parsing, formatting and masking share one address
 * shape and one set of character-code helpers, and read best side by side.
 */
import { InvalidInputError, quote } from "../core/mod.ts";

/** Address family: 4 or 6. */
export type IpFamily = 4 | 6;

/** One address: 4 bytes for IPv4, 16 for IPv6. */
export interface IpAddress {
  family: IpFamily;
  bytes: Uint8Array;
}

/** A network: the address bytes are already masked to the prefix. */
export interface IpNetwork {
  family: IpFamily;
  bytes: Uint8Array;
  prefix: number;
}

const DOT = 0x2e;
const COLON = 0x3a;
const ZERO = 0x30;
const DIGITS = /^\d+$/;

// Byte offset of the IPv4 part inside an IPv4-mapped (::ffff:0:0/96) address.
const MAPPED_OFFSET = 12;

/** Parses one IP address strictly; an IPv4-mapped IPv6 address comes back as IPv4. */
export function parseIp(text: string): IpAddress {
  const address = parseAddress(text);
  if (typeof address === "string") {
    throw new InvalidInputError("invalid_ip", `Invalid IP address ${quote(text)}: ${address}`);
  }
  // Mapped addresses are how dual-stack sockets report IPv4 peers; they must match IPv4 entries.
  return isMapped(address) ? { family: 4, bytes: address.bytes.slice(MAPPED_OFFSET) } : address;
}

/** Parses "address/prefix" or a bare address (a single host) strictly, rejecting set host bits. */
export function parseNetwork(text: string): IpNetwork {
  const slash = text.indexOf("/");
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (typeof address === "string") {
    if (slash < 0) {
      throw new InvalidInputError("invalid_ip", `Invalid IP address ${quote(text)}: ${address}`);
    }
    throw cidrError(text, address);
  }
  const bits = address.bytes.length * 8;
  let prefix = bits;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (prefixText.length === 0) throw cidrError(text, 'expected a prefix length after "/"');
    if (!DIGITS.test(prefixText)) {
      throw cidrError(text, `prefix ${quote(prefixText)} is not a whole number`);
    }
    prefix = Number(prefixText);
    if (prefix > bits) {
      throw cidrError(text, `prefix ${quote(prefixText)} is out of range 0-${bits}`);
    }
  }
  let family = address.family;
  let bytes = address.bytes;
  // A mapped network that stays inside ::ffff:0:0/96 is an IPv4 network in disguise.
  if (isMapped(address) && prefix >= MAPPED_OFFSET * 8) {
    family = 4;
    bytes = bytes.slice(MAPPED_OFFSET);
    prefix -= MAPPED_OFFSET * 8;
  }
  const masked = maskTo(bytes, prefix);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== masked[i]) {
      const meant = formatNetwork({ family, bytes: masked, prefix });
      throw cidrError(text, `host bits are set; did you mean ${quote(meant)}`);
    }
  }
  return { family, bytes, prefix };
}

/** Formats IPv4 as dotted decimal and IPv6 in RFC 5952 canonical form. */
export function formatIp(address: IpAddress): string {
  const b = address.bytes;
  if (address.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  // RFC 5952 section 5: mapped addresses keep their IPv4 part in dotted form.
  if (isMapped(address)) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  // Find the longest run of two or more zero groups; the first one wins a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let group = 0; group < 8;) {
    if (b[group * 2] !== 0 || b[group * 2 + 1] !== 0) {
      group++;
      continue;
    }
    const start = group;
    while (group < 8 && b[group * 2] === 0 && b[group * 2 + 1] === 0) group++;
    if (group - start > bestLength) {
      bestStart = start;
      bestLength = group - start;
    }
  }
  let text = "";
  for (let group = 0; group < 8; group++) {
    if (group === bestStart) {
      text += "::";
      group += bestLength - 1;
      continue;
    }
    if (text.length > 0 && !text.endsWith(":")) text += ":";
    text += ((b[group * 2] << 8) | b[group * 2 + 1]).toString(16);
  }
  return text;
}

/** Formats a network as "address/prefix", e.g. "10.0.0.0/8". */
export function formatNetwork(net: IpNetwork): string {
  return `${formatIp(net)}/${net.prefix}`;
}

/** Returns a copy of the bytes with every bit beyond the prefix zeroed. */
export function maskTo(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = bytes.slice();
  const bits = Math.max(0, Math.min(prefix, out.length * 8));
  const whole = bits >> 3;
  const rest = bits & 7;
  if (whole < out.length) {
    if (rest > 0) out[whole] &= (0xff << (8 - rest)) & 0xff;
    out.fill(0, rest > 0 ? whole + 1 : whole);
  }
  return out;
}

// Scratch space for parseUrlHostIpv4; safe to share because parsing never yields.
const hostParts = new Float64Array(4);

/**
 * Parses a URL host the way browsers and Safe Browsing do (1-4 parts, each decimal, octal
 * or hex) and returns it in dotted decimal, or null when the host is a name, not a number.
 */
export function parseUrlHostIpv4(host: string): string | null {
  let end = host.length;
  // Like WHATWG, one trailing dot ("1.2.3.4.") still names the address.
  if (end > 1 && host.charCodeAt(end - 1) === DOT) end--;
  let count = 0;
  let start = 0;
  for (let i = 0; i <= end; i++) {
    if (i < end && host.charCodeAt(i) !== DOT) continue;
    if (count === 4) return null;
    const value = parseHostNumber(host, start, i);
    if (value < 0) return null;
    hostParts[count++] = value;
    start = i + 1;
  }
  // Every part but the last is one byte; the last fills all remaining bytes. WHATWG calls
  // anything larger a failure; null lets the caller keep the text as an ordinary host name.
  for (let i = 0; i < count - 1; i++) if (hostParts[i] > 0xff) return null;
  const last = hostParts[count - 1];
  if (last >= 2 ** (8 * (5 - count))) return null;
  let value = last;
  for (let i = 0; i < count - 1; i++) value += hostParts[i] * 2 ** (8 * (3 - i));
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/**
 * Reads one lenient IPv4 part: "0x" hex, "0" octal or decimal. Returns -1 when it is not a
 * number or exceeds 32 bits; overflow makes the host a name rather than wrapping around.
 */
function parseHostNumber(text: string, start: number, end: number): number {
  if (start === end) return -1;
  let radix = 10;
  let i = start;
  const second = end - start > 1 ? text.charCodeAt(start + 1) | 0x20 : 0;
  if (text.charCodeAt(start) === ZERO && second === 0x78) {
    radix = 16;
    i += 2; // WHATWG reads a bare "0x" as zero.
  } else if (text.charCodeAt(start) === ZERO && end - start > 1) {
    radix = 8;
    i += 1;
  }
  let value = 0;
  for (; i < end; i++) {
    const digit = digitValue(text.charCodeAt(i));
    if (digit >= radix) return -1;
    value = value * radix + digit;
    if (value > 0xffffffff) return -1;
  }
  return value;
}

/** The value of a hex digit character, or 99 for anything else. */
function digitValue(code: number): number {
  if (code >= ZERO && code <= 0x39) return code - ZERO;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return 99;
}

/** Parses without unmapping; returns the address or what was wrong with it. */
function parseAddress(text: string): IpAddress | string {
  if (text.length === 0) return "expected an IPv4 or IPv6 address";
  if (text.charCodeAt(0) === 0x5b) {
    if (text.charCodeAt(text.length - 1) !== 0x5d) return 'expected "]" to close "["';
    return parseV6(text, 1, text.length - 1);
  }
  if (text.indexOf(":") >= 0) return parseV6(text, 0, text.length);
  const bytes = new Uint8Array(4);
  const problem = parseV4(text, 0, text.length, bytes, 0);
  return problem ?? { family: 4, bytes };
}

/** Writes dotted-decimal text[start, end) into out at offset; returns a problem or null. */
function parseV4(
  text: string,
  start: number,
  end: number,
  out: Uint8Array,
  offset: number,
): string | null {
  let part = 0;
  let partStart = start;
  let value = 0;
  for (let i = start; i <= end; i++) {
    const code = i < end ? text.charCodeAt(i) : DOT;
    if (code >= ZERO && code <= 0x39) {
      value = value * 10 + code - ZERO;
      continue;
    }
    if (code !== DOT) return `expected digits and dots, found ${quote(text[i])}`;
    if (part === 4 || i === partStart) return "expected four dotted decimal parts";
    const partText = text.slice(partStart, i);
    if (partText.length > 1 && partText.charCodeAt(0) === ZERO) {
      return `part ${quote(partText)} has a leading zero`;
    }
    if (value > 255) return `part ${quote(partText)} is above 255`;
    out[offset + part++] = value;
    partStart = i + 1;
    value = 0;
  }
  return part === 4 ? null : "expected four dotted decimal parts";
}

/** Parses the RFC 4291 text forms in text[start, end), including "::" and an IPv4 tail. */
function parseV6(text: string, start: number, end: number): IpAddress | string {
  const zone = text.indexOf("%", start);
  if (zone >= 0 && zone < end) {
    return `zone identifiers such as ${quote(text.slice(zone, end))} are not supported`;
  }
  const bytes = new Uint8Array(16);
  let groups = 0;
  let gap = -1; // Group index where "::" stands, or -1.
  let i = start;
  if (text.charCodeAt(i) === COLON) {
    if (text.charCodeAt(i + 1) !== COLON || i + 1 >= end) return 'expected "::" or a group first';
    gap = 0;
    i += 2;
  }
  while (i < end) {
    const groupStart = i;
    let value = 0;
    while (i < end && digitValue(text.charCodeAt(i)) < 16) {
      value = value * 16 + digitValue(text.charCodeAt(i++));
    }
    const code = i < end ? text.charCodeAt(i) : COLON;
    if (code === DOT) {
      if (groups > 6) return "expected at most eight groups";
      const problem = parseV4(text, groupStart, end, bytes, groups * 2);
      if (problem !== null) return `${problem} in the IPv4 tail`;
      groups += 2;
      break;
    }
    if (code !== COLON) return `expected hex digits and colons, found ${quote(text[i])}`;
    if (i === groupStart) return "expected a group between colons";
    if (i - groupStart > 4) {
      return `group ${quote(text.slice(groupStart, i))} has more than four hex digits`;
    }
    if (groups === 8) return "expected at most eight groups";
    bytes[groups * 2] = value >> 8;
    bytes[groups * 2 + 1] = value & 0xff;
    groups++;
    if (i >= end) break;
    if (text.charCodeAt(i + 1) === COLON) {
      if (gap >= 0) return 'expected at most one "::"';
      gap = groups;
      i += 2;
    } else {
      if (i + 1 >= end) return "expected a group after the last colon";
      i += 1;
    }
  }
  if (gap < 0 && groups !== 8) return 'expected eight groups or "::"';
  if (gap >= 0 && groups === 8) return 'expected "::" to stand for at least one group';
  if (gap >= 0) {
    // Slide the groups written after "::" to the end; the zeros in between are the gap.
    const tail = (groups - gap) * 2;
    bytes.copyWithin(16 - tail, gap * 2, groups * 2);
    bytes.fill(0, gap * 2, 16 - tail);
  }
  return { family: 6, bytes };
}

/** Reports whether an address lies in ::ffff:0:0/96. */
function isMapped(address: IpAddress): boolean {
  const b = address.bytes;
  if (address.family !== 6 || b[10] !== 0xff || b[11] !== 0xff) return false;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return true;
}

function cidrError(text: string, problem: string): InvalidInputError {
  return new InvalidInputError("invalid_cidr", `Invalid CIDR ${quote(text)}: ${problem}`);
}
