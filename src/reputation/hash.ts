/** Hex digests: file hashes (MD5, SHA-1, SHA-256) and certificate thumbprints. */
import { fromHex, hexDigitValue, InvalidInputError, quote } from "../core/mod.ts";

/** Digest kinds by their byte length. */
export type DigestKind = "md5" | "sha1" | "sha256";

const KIND_BY_HEX_LENGTH: Readonly<Record<number, DigestKind>> = {
  32: "md5",
  40: "sha1",
  64: "sha256",
};

/** A parsed digest: its kind, canonical lower-case hex and raw bytes. */
export interface Digest {
  kind: DigestKind;
  hex: string;
  bytes: Uint8Array;
}

/** A validated hex digest, before any bytes are decoded. */
export interface ScannedDigest {
  kind: DigestKind;
  /** Canonical lower-case hex. */
  hex: string;
  /** The first four bytes as a big-endian number: the index prefix of its key. */
  prefix: number;
}

/**
 * Validates a hex digest of 32, 40 or 64 characters, case-insensitively, and
 * reads its first four bytes, without allocating: most looked-up hashes are
 * unknown, and their answer needs nothing more. Throws `errorCode` with a
 * message naming the input and what was expected.
 */
export function scanDigest(text: string, errorCode = "invalid_hash"): ScannedDigest {
  const kind = KIND_BY_HEX_LENGTH[text.length];
  if (kind === undefined) {
    const thumbprint = errorCode === "invalid_thumbprint";
    throw new InvalidInputError(
      errorCode,
      `Invalid ${thumbprint ? "thumbprint" : "hash"} ${quote(text)}: expected ${
        thumbprint ? "40 (SHA-1) or 64 (SHA-256)" : "32 (MD5), 40 (SHA-1) or 64 (SHA-256)"
      } hex characters, got ${text.length}`,
    );
  }
  // One table read a character: its value, with 16 set for an upper-case digit and -1 for a
  // non-digit; OR-ing them all says at the end whether any was bad or upper case.
  let flags = 0;
  let prefix = 0;
  for (let i = 0; i < 8; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? HEX_FLAGS[c] : -1;
    flags |= v;
    prefix = (prefix << 4) | (v & 15);
  }
  for (let i = 8; i < text.length; i++) {
    const c = text.charCodeAt(i);
    flags |= c < 128 ? HEX_FLAGS[c] : -1;
  }
  if (flags < 0) throw notHex(text, errorCode);
  return { kind, hex: flags & 16 ? text.toLowerCase() : text, prefix: prefix >>> 0 };
}

const HEX_FLAGS = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_FLAGS[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_FLAGS[97 + i] = 10 + i;
  HEX_FLAGS[65 + i] = 16 | (10 + i);
}

/** The error for a digest of the right length with a character that is not a hex digit. */
function notHex(text: string, errorCode: string): InvalidInputError {
  let i = 0;
  while (hexDigitValue(text.charCodeAt(i)) >= 0) i++;
  return new InvalidInputError(
    errorCode,
    `Invalid ${errorCode === "invalid_thumbprint" ? "thumbprint" : "hash"} ${quote(text)}: ${
      quote(text[i])
    } at position ${i + 1} is not a hex digit`,
  );
}

/**
 * Parses a hex digest of 32, 40 or 64 characters, case-insensitively. Throws
 * `errorCode` with a message naming the input and what was expected.
 */
export function parseDigest(text: string, errorCode = "invalid_hash"): Digest {
  const scanned = scanDigest(text, errorCode);
  return { kind: scanned.kind, hex: scanned.hex, bytes: fromHex(scanned.hex) };
}

const THUMBPRINT_SEPARATORS = /[:\s]/g;

/**
 * Parses a certificate thumbprint (SHA-1 or SHA-256). Accepts the colon- or
 * space-separated form that certificate tools print.
 */
export function parseThumbprint(text: string): Digest {
  const scanned = scanThumbprint(text);
  return { kind: scanned.kind, hex: scanned.hex, bytes: fromHex(scanned.hex) };
}

/** {@link scanDigest} for certificate thumbprints (SHA-1 or SHA-256, colons allowed). */
export function scanThumbprint(text: string): ScannedDigest {
  const compact = text.includes(":") || text.includes(" ")
    ? text.replace(THUMBPRINT_SEPARATORS, "")
    : text;
  const digest = scanDigest(compact, "invalid_thumbprint");
  if (digest.kind === "md5") {
    throw new InvalidInputError(
      "invalid_thumbprint",
      `Invalid thumbprint ${
        quote(text)
      }: expected SHA-1 (40) or SHA-256 (64) hex characters, got 32`,
    );
  }
  return digest;
}
