/** Reading a licence key from a request's headers, and the 401 every key problem answers. */
import { AppError } from "../core/mod.ts";

/** A 401 with `code`; the WWW-Authenticate challenge comes from the error's `bearer` detail. */
export function unauthorized(code: string, message: string): AppError {
  return new AppError("unauthorized", code, message, { bearer: true });
}

/** The key of `Authorization: Bearer KEY` or `X-License-Key: KEY`; 401 `license_missing` else. */
export function readKey(headers: Headers): string {
  // One header read on the common path: a Bearer key is used as it is.
  const authorization = headers.get("authorization");
  if (authorization !== null && authorization.length > 7) {
    const scheme = authorization.slice(0, 7);
    if (scheme === "Bearer " || scheme.toLowerCase() === "bearer ") {
      const key = authorization.slice(7).trim();
      if (key) return key;
    }
  }
  // Otherwise an X-License-Key, which also wins over an Authorization header
  // meant for someone else (a proxy's Basic credentials, say).
  const explicit = headers.get("x-license-key");
  if (explicit !== null && explicit.trim() !== "") return explicit.trim();
  if (authorization !== null) {
    throw unauthorized("license_missing", 'Authorization header must be "Bearer <licence key>"');
  }
  throw unauthorized(
    "license_missing",
    'Licence key required: send "Authorization: Bearer <key>" or "X-License-Key: <key>"',
  );
}
