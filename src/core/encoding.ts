/** Hex and base64, one copy each. */
import { InvalidInputError, quote } from "./errors.ts";

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** The value of a hex digit's character code, or -1 for anything else. */
export function hexDigitValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87; // a-f, A-F
  return -1;
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

/** Bytes of hex text the caller has already checked (even length, hex digits only). */
export function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = (hexDigitValue(hex.charCodeAt(2 * i)) << 4) |
      hexDigitValue(hex.charCodeAt(2 * i + 1));
  }
  return bytes;
}

/** Base64 of bytes. */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  // In slices: spreading a large array into one call would overflow the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** Unpadded base64url of bytes (RFC 4648 section 5), for tokens in cookies and URLs. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Bytes of base64 text; throws {@link InvalidInputError} `invalid_base64` on bad text. */
export function fromBase64(text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    throw new InvalidInputError("invalid_base64", `Not base64: ${quote(text, 40)}`);
  }
}
