/**
 * Who may use the compatible routes: a client with a licence key, exactly as on `/v1` (checked,
 * counted against its quota, bound by its participation choice), or, for tools that cannot send
 * one, a client whose address is in `compat.allow`. Keyless clients get answers from this node's
 * own data only: with no licence there is no participation choice that would let a question
 * leave the node for the parent.
 */
import type { Context } from "hono";
import { AppError } from "../../core/mod.ts";
import type { NetworkList } from "../../reputation/mod.ts";

/** How a request was let in. */
export type Admission = "licence" | "network";

/** What the compatible routes need to admit a request. */
export interface CompatAccess {
  /** Checks a licence as `/v1` look-ups do; null when licences are not required. */
  guard: ((headers: Headers) => unknown) | null;
  /** `compat.allow`. */
  allow: NetworkList;
}

/**
 * Admits the request or throws the licence check's error. `key` is the licence key the protocol
 * carries in its own header (`x-apikey` for VirusTotal), else the `/v1` headers are read.
 */
export function admit(c: Context, access: CompatAccess, key?: string | null): Admission {
  if (access.guard === null) return "licence";
  const headers = c.req.raw.headers;
  const hasKey = key !== undefined
    ? key !== null && key !== ""
    : headers.has("authorization") || headers.has("x-license-key");
  if (!hasKey && !access.allow.empty && access.allow.admits(peerOf(c))) return "network";
  if (key === undefined) {
    access.guard(headers);
  } else if (!hasKey) {
    throw new AppError(
      "unauthorized",
      "license_missing",
      "Licence key required: send it as the x-apikey header",
    );
  } else {
    access.guard(new Headers({ "x-license-key": key! }));
  }
  return "licence";
}

/** The connection's peer address, as Deno's server reports it. */
function peerOf(c: Context): string {
  const info = c.env as Partial<Deno.ServeHandlerInfo<Deno.NetAddr>> | undefined;
  return info?.remoteAddr?.hostname ?? "";
}
