/**
 * Look-up keys: the bytes an object is stored under. Each key starts with a type
 * byte. Digest keys continue with the digest, whose first four bytes are already
 * uniformly spread; text and address keys continue with a 32-bit FNV-1a of their
 * payload and then the payload itself. Either way bytes 1..4 are a well-spread
 * 32-bit prefix, which the in-memory index holds and which SQL can read back cheaply.
 */
import type { ObjectType } from "./types.ts";
import { formatIp, formatNetwork, type IpFamily } from "./ip.ts";
import { toHex } from "../core/mod.ts";

/** Type byte of each object type. */
export const TYPE_BYTE: Readonly<Record<ObjectType, number>> = {
  file: 1,
  url: 2,
  domain: 3,
  ip: 4,
  cert: 5,
};
const TYPE_BY_BYTE: readonly (ObjectType | undefined)[] = [
  undefined,
  "file",
  "url",
  "domain",
  "ip",
  "cert",
];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** 32-bit FNV-1a of bytes. */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/**
 * 32-bit FNV-1a of a string's UTF-8 bytes, straight from the string when it is
 * ASCII (canonical URLs and punycode domains are), so a miss allocates nothing.
 */
export function fnv1aText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return fnv1a(encoder.encode(text));
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

/** The 32-bit prefix of a key that the in-memory index holds. */
export function keyPrefix(key: Uint8Array): number {
  return ((key[1] << 24) | (key[2] << 16) | (key[3] << 8) | key[4]) >>> 0;
}

/** Key of a file hash or certificate thumbprint. */
export function digestKey(type: "file" | "cert", digest: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + digest.length);
  key[0] = TYPE_BYTE[type];
  key.set(digest, 1);
  return key;
}

/** Key of a validated lower- or upper-case hex digest, decoded straight into the key. */
export function digestKeyFromHex(type: "file" | "cert", hex: string): Uint8Array {
  const key = new Uint8Array(1 + (hex.length >> 1));
  key[0] = TYPE_BYTE[type];
  for (let i = 1, j = 0; i < key.length; i++, j += 2) {
    key[i] = (NIBBLE[hex.charCodeAt(j)] << 4) | NIBBLE[hex.charCodeAt(j + 1)];
  }
  return key;
}

const NIBBLE = new Uint8Array(128);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) NIBBLE[65 + i] = NIBBLE[97 + i] = 10 + i;

function hashedKey(typeByte: number, payload: Uint8Array): Uint8Array {
  const key = new Uint8Array(5 + payload.length);
  const h = fnv1a(payload);
  key[0] = typeByte;
  key[1] = h >>> 24;
  key[2] = (h >>> 16) & 0xff;
  key[3] = (h >>> 8) & 0xff;
  key[4] = h & 0xff;
  key.set(payload, 5);
  return key;
}

/** Key of a URL expression (`host/path`) or a domain name. */
export function textKey(type: "url" | "domain", text: string): Uint8Array {
  return hashedKey(TYPE_BYTE[type], encoder.encode(text));
}

/** Key of an IP network: address bytes masked to `prefix`, then the prefix length. */
export function ipKey(masked: Uint8Array, prefix: number): Uint8Array {
  return hashedKey(TYPE_BYTE.ip, ipPayload(masked, prefix));
}

/** The bytes after the hash in an IP key: the masked address and the prefix length. */
export function ipPayload(masked: Uint8Array, prefix: number): Uint8Array {
  const payload = new Uint8Array(masked.length + 1);
  payload.set(masked);
  payload[masked.length] = prefix;
  return payload;
}

/** Key of an IP network from its {@link ipPayload}. */
export function ipKeyFromPayload(payload: Uint8Array): Uint8Array {
  return hashedKey(TYPE_BYTE.ip, payload);
}

/** The object type and printable value a key was made from. */
export function decodeKey(key: Uint8Array): { type: ObjectType; value: string } {
  const type = TYPE_BY_BYTE[key[0]];
  if (type === undefined) throw new Error(`Unknown key type byte ${key[0]}`);
  if (type === "file" || type === "cert") return { type, value: toHex(key.subarray(1)) };
  const payload = key.subarray(5);
  if (type === "url" || type === "domain") return { type, value: decoder.decode(payload) };
  const family: IpFamily = payload.length === 5 ? 4 : 6;
  const bytes = payload.subarray(0, payload.length - 1);
  const prefix = payload[payload.length - 1];
  const full = family === 4 ? 32 : 128;
  return {
    type,
    value: prefix === full ? formatIp({ family, bytes }) : formatNetwork({ family, bytes, prefix }),
  };
}
