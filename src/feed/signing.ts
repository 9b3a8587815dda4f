/**
 * Ed25519 keys and signatures through WebCrypto. A key is known by its key id:
 * the hex SHA-256 of its 32-byte raw public key. Private keys live in small JSON
 * files (`pksn feed keygen`) that only the publisher holds.
 */
import { z } from "zod";
import { fromBase64, InvalidInputError, toBase64, toHex } from "../core/mod.ts";

const ED25519 = { name: "Ed25519" } as const;

/** A private key file's content. */
export interface KeyFile {
  type: "ed25519-private";
  keyid: string;
  /** Base64 raw public key (32 bytes). */
  public: string;
  /** Base64 PKCS#8 private key. */
  private: string;
}

const keyFileSchema = z.strictObject({
  type: z.literal("ed25519-private"),
  keyid: z.string().regex(/^[0-9a-f]{64}$/),
  public: z.base64(),
  private: z.base64(),
});

/** A key that can sign. */
export interface SigningKey {
  keyid: string;
  publicKey: Uint8Array;
  privateKey: CryptoKey;
}

/** Lower-case hex SHA-256 of bytes. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return toHex(digest);
}

/** The key id of a raw Ed25519 public key. */
export function keyIdOf(publicKey: Uint8Array): Promise<string> {
  return sha256Hex(publicKey);
}

/** Makes a new key pair and its key file. */
export async function generateKeyFile(): Promise<KeyFile> {
  const pair = await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"]) as CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const privateKey = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return {
    type: "ed25519-private",
    keyid: await keyIdOf(publicKey),
    public: toBase64(publicKey),
    private: toBase64(privateKey),
  };
}

/** Reads a key file's JSON; `label` names it in errors. */
export async function parseKeyFile(text: string, label: string): Promise<SigningKey> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(
      "invalid_key_file",
      `${label} is not JSON: ${(err as Error).message}`,
    );
  }
  const parsed = keyFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInputError(
      "invalid_key_file",
      `${label} is not a pksn Ed25519 key file (made by "pksn feed keygen")`,
    );
  }
  const publicKey = fromBase64(parsed.data.public);
  if (await keyIdOf(publicKey) !== parsed.data.keyid) {
    throw new InvalidInputError(
      "invalid_key_file",
      `${label}: keyid does not match its public key`,
    );
  }
  try {
    const privateKey = await crypto.subtle.importKey(
      "pkcs8",
      fromBase64(parsed.data.private) as BufferSource,
      ED25519,
      false,
      ["sign"],
    );
    const key = { keyid: parsed.data.keyid, publicKey, privateKey };
    // A file spliced from two key pairs would otherwise show only as bad signatures at clients.
    const probe = new TextEncoder().encode("pksn key check");
    if (!(await verify(publicKey, await sign(key, probe), probe))) {
      throw new InvalidInputError(
        "invalid_key_file",
        `${label}: the private key does not belong to the public key`,
      );
    }
    return key;
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    throw new InvalidInputError(
      "invalid_key_file",
      `${label}: cannot read the private key: ${(err as Error).message}`,
    );
  }
}

/** Signs bytes; returns the base64 signature. */
export async function sign(key: SigningKey, data: Uint8Array): Promise<string> {
  const sig = await crypto.subtle.sign(ED25519, key.privateKey, data as BufferSource);
  return toBase64(new Uint8Array(sig));
}

/** Whether `signature` (base64) is `publicKey`'s signature of `data`. Never throws. */
export async function verify(
  publicKey: Uint8Array,
  signature: string,
  data: Uint8Array,
): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey(
      "raw",
      publicKey as BufferSource,
      ED25519,
      false,
      ["verify"],
    );
    return await crypto.subtle.verify(
      ED25519,
      key,
      fromBase64(signature) as BufferSource,
      data as BufferSource,
    );
  } catch {
    return false;
  }
}
