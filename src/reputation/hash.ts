/** Hex digests: file hashes (MD5, SHA-1, SHA-256) and certificate thumbprints. */
import { InvalidInputError, quote } from "../errors.ts";

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

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87; // a-f, A-F
  return -1;
}

/**
 * Parses a hex digest of 32, 40 or 64 characters, case-insensitively. Throws
 * `errorCode` with a message naming the input and what was expected.
 */
export function parseDigest(text: string, errorCode = "invalid_hash"): Digest {
  const kind = KIND_BY_HEX_LENGTH[text.length];
  const what = errorCode === "invalid_thumbprint" ? "thumbprint" : "hash";
  if (kind === undefined) {
    throw new InvalidInputError(
      errorCode,
      `Invalid ${what} ${
        quote(text)
      }: expected 32 (MD5), 40 (SHA-1) or 64 (SHA-256) hex characters, got ${text.length}`,
    );
  }
  const bytes = new Uint8Array(text.length >> 1);
  let lower = true;
  for (let i = 0; i < bytes.length; i++) {
    const c1 = text.charCodeAt(2 * i);
    const c2 = text.charCodeAt(2 * i + 1);
    const hi = hexValue(c1);
    const lo = hexValue(c2);
    if (hi < 0 || lo < 0) {
      const at = hi < 0 ? 2 * i : 2 * i + 1;
      throw new InvalidInputError(
        errorCode,
        `Invalid ${what} ${quote(text)}: ${quote(text[at])} at position ${
          at + 1
        } is not a hex digit`,
      );
    }
    if (c1 >= 65 && c1 <= 70 || c2 >= 65 && c2 <= 70) lower = false;
    bytes[i] = (hi << 4) | lo;
  }
  return { kind, hex: lower ? text : text.toLowerCase(), bytes };
}

const THUMBPRINT_SEPARATORS = /[:\s]/g;

/**
 * Parses a certificate thumbprint (SHA-1 or SHA-256). Accepts the colon- or
 * space-separated form that certificate tools print.
 */
export function parseThumbprint(text: string): Digest {
  const compact = text.includes(":") || text.includes(" ")
    ? text.replace(THUMBPRINT_SEPARATORS, "")
    : text;
  const digest = parseDigest(compact, "invalid_thumbprint");
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

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}
