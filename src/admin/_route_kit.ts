/**
 * What every admin router shares: the body limit, the no-store header, reading an optional
 * JSON body, checking a body against its schema with a message naming the field, and the
 * session guard's type.
 */
import type { Context, Handler } from "hono";
import type { z } from "zod";
import { AppError, InvalidInputError, quote } from "../core/mod.ts";
import { readJson } from "../http/mod.ts";
import type { AdminSession } from "./auth.ts";

/** Admin bodies are a few fields; no need for the look-up body limit. */
export const BODY_LIMIT = 16 * 1024;
/** Admin answers are never cached. */
export const NO_STORE = { "Cache-Control": "no-store" } as const;

/** Wraps a handler so it runs only with a valid admin session (and CSRF token for changes). */
export type SessionGuard = (
  route: string,
  handler: (c: Context, session: AdminSession) => Response | Promise<Response>,
) => Handler;

/** A JSON body, or `{}` when the request has none. */
export async function readOptionalJson(c: Context): Promise<unknown> {
  const length = c.req.header("content-length");
  const empty = c.req.header("content-type") === undefined &&
    (length === undefined || length === "0");
  return empty ? {} : await readJson(c, BODY_LIMIT);
}

/**
 * The raw body of an upload whose media type is one of `types`; 415 `unsupported_media_type`
 * saying how to send it (`hint`), or 400 `empty` when there is no body.
 */
export function uploadBody(
  c: Context,
  types: ReadonlySet<string>,
  hint: string,
  empty: string,
): ReadableStream<Uint8Array> {
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (!types.has(type)) throw new AppError("unsupported", "unsupported_media_type", hint);
  const body = c.req.raw.body;
  if (body === null) throw new AppError("invalid", empty, "The request has no body");
  return body;
}

/** `value` checked against `schema`; a 400 `invalid_request` naming the field otherwise. */
export function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.code === "unrecognized_keys"
    ? [...issue.path, issue.keys[0]].join(".")
    : issue.path.join(".");
  throw new InvalidInputError(
    "invalid_request",
    `Invalid ${what}${field ? ` ${quote(field)}` : ""}: ${
      issue.code === "unrecognized_keys" ? "unknown field" : issue.message
    }`,
  );
}
