/**
 * Byte work for URL canonicalisation: unescaping to a fixed point and Safe Browsing's
 * escaping, on shared buffers (parsing never yields, so one set serves every call). Private
 * to reputation/.
 */
import { hexDigitValue } from "../core/mod.ts";

const HEX = "0123456789ABCDEF";
const HEX_BYTES = new TextEncoder().encode(HEX);
// Only ever fed bytes below 0x80, which UTF-8 reads as ASCII; Deno's UTF-8 decoder has a fast
// path that its "ascii" (windows-1252) decoder lacks.
const asciiDecoder = new TextDecoder();

/** The longest URL accepted, in characters. */
export const MAX_URL_LENGTH = 8192;
/** Holds a URL's UTF-8 bytes: one UTF-16 unit encodes to at most three. */
export const scratch: Uint8Array = new Uint8Array(MAX_URL_LENGTH * 3);
// Escaping writes here (each byte becomes at most three) and decodes once: building the
// string a character at a time cost half a millisecond for a long path.
const escaped = new Uint8Array(scratch.length * 3 + 8);

/** Decodes bytes that are all below 0x80. */
export function decodeAscii(bytes: Uint8Array): string {
  return asciiDecoder.decode(bytes);
}

/**
 * Percent-unescapes b[start, end) in place until no escape is left, and returns the new end.
 * Decoding never makes two escapes overlap, so the result does not depend on the order: one
 * left-to-right pass that re-checks the bytes just written gives the same bytes as repeated
 * whole passes, in linear time ("%252525..." would otherwise cost a pass per level).
 */
export function unescape(b: Uint8Array, start: number, end: number): number {
  let write = start;
  for (let read = start; read < end; read++) {
    b[write++] = b[read];
    while (write - start >= 3 && b[write - 3] === 0x25) {
      const high = hexDigitValue(b[write - 2]);
      const low = hexDigitValue(b[write - 1]);
      if (high < 0 || low < 0) break;
      b[write - 3] = (high << 4) | low;
      write -= 2;
    }
  }
  return write;
}

/** Percent-escapes b[start, end) per the spec: bytes <= 32, >= 127, "#" and "%". */
export function escapeBytes(b: Uint8Array, start: number, end: number, lower: boolean): string {
  let clean = !lower;
  for (let i = start; clean && i < end; i++) clean = !mustEscape(b[i]);
  if (clean) return asciiDecoder.decode(b.subarray(start, end));
  let length = 0;
  for (let i = start; i < end; i++) length = escapeInto(b[i], lower, length);
  return asciiDecoder.decode(escaped.subarray(0, length));
}

/** Like escapeBytes for a string of one character per byte. */
export function escapeBinary(text: string, lower: boolean): string {
  let length = 0;
  for (let i = 0; i < text.length; i++) length = escapeInto(text.charCodeAt(i), lower, length);
  return asciiDecoder.decode(escaped.subarray(0, length));
}

/** Writes one byte, escaped if it must be, to the `escaped` buffer at `at`; returns the end. */
export function escapeInto(byte: number, lower: boolean, at: number): number {
  if (mustEscape(byte)) {
    escaped[at] = 0x25;
    escaped[at + 1] = HEX_BYTES[byte >> 4];
    escaped[at + 2] = HEX_BYTES[byte & 15];
    return at + 3;
  }
  // ASCII only: Latin-1 letters here are stray bytes, not text to case-fold.
  escaped[at] = lower && byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
  return at + 1;
}

function mustEscape(byte: number): boolean {
  return byte <= 0x20 || byte >= 0x7f || byte === 0x23 || byte === 0x25;
}

/** Decodes what {@link escapeInto} wrote to the escape buffer, from its start to `end`. */
export function escapedText(end: number): string {
  return asciiDecoder.decode(escaped.subarray(0, end));
}

/** Writes one raw byte to the escape buffer at `at`; returns the end. */
export function putByte(byte: number, at: number): number {
  escaped[at] = byte;
  return at + 1;
}
