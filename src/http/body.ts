/** Reading request bodies: content type, encoding, size cap and JSON, each with its own error. */
import type { Context } from "hono";
import { AppError, InvalidInputError, quote } from "../core/mod.ts";

/**
 * Reads a JSON body of at most `limit` bytes. 415 for a non-JSON content type
 * or a compressed body, 413 when the body (declared or actual) is larger, 400
 * when it is not JSON.
 */
export async function readJson(c: Context, limit: number): Promise<unknown> {
  return parseJson(await readJsonBytes(c, limit));
}

/** {@link readJson}'s checks of type and size, giving the body's bytes for a caller to parse. */
export function readJsonBytes(c: Context, limit: number): Promise<Uint8Array> {
  const type = c.req.header("content-type");
  const mediaType = type?.split(";", 1)[0].trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new AppError(
      "unsupported",
      "unsupported_media_type",
      `Unsupported content type ${quote(type ?? "(none)")}: expected "application/json"`,
    );
  }
  return readBytes(c, limit);
}

/** Parses a body's bytes as JSON: 400 `invalid_json` when they are not UTF-8 or not JSON. */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidInputError("invalid_json", "Request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(
      "invalid_json",
      `Request body is not JSON: ${(err as Error).message}`,
    );
  }
}

/**
 * Reads a body of at most `limit` bytes: 415 `unsupported_content_encoding`
 * for a compressed body, 413 when the declared or the actual size is larger
 * (without reading the rest), 400 when it is missing or the client goes away
 * mid-body.
 */
export async function readBytes(c: Context, limit: number): Promise<Uint8Array> {
  refuseEncoded(c.req.raw.headers);
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  const body = c.req.raw.body;
  if (body === null) throw new InvalidInputError("invalid_json", "Request body is empty");
  return await readStream(body, limit);
}

/**
 * Reads a request body stream of at most `limit` bytes, chunk by chunk: 413 as soon as it is
 * larger (the rest unread), 400 `body_incomplete` when the client goes away mid-body.
 */
export async function readStream(
  body: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    // The client went away mid-body: nothing to answer, nothing worth an error log.
    throw new InvalidInputError(
      "body_incomplete",
      `Request body could not be read: ${(err as Error).message}`,
    );
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/**
 * Throws 415 `unsupported_content_encoding` unless the body is sent as it is
 * (no `Content-Encoding`, or only `identity`). Bodies are never decompressed:
 * the size caps would then bound the compressed bytes, not the work.
 */
export function refuseEncoded(headers: Headers): void {
  const encoding = headers.get("content-encoding");
  if (encoding === null) return;
  const codings = encoding.split(",").map((coding) => coding.trim().toLowerCase());
  if (codings.every((coding) => coding === "identity" || coding === "")) return;
  throw new AppError(
    "unsupported",
    "unsupported_content_encoding",
    `Unsupported content encoding ${quote(encoding)}: send the body uncompressed`,
  );
}

function tooLarge(limit: number): AppError {
  return new AppError("too_large", "body_too_large", `Request body is larger than ${limit} bytes`);
}
