/**
 * `GET /feed/...`: the verified feed tree this node keeps, served to downstream
 * nodes exactly as the origin signed it (this node never re-signs, so it can
 * withhold data but not alter it). Ranges are honoured so downstream downloads
 * resume; immutable, content-addressed files may be cached for a year.
 */
import type { Context, Hono } from "hono";
import { AppError, quote } from "../core/mod.ts";
import type { LicenceAuthenticator } from "../licences/mod.ts";
import { feedPath } from "../feed/mod.ts";
import { allowOnly, instrument, type InstrumentDeps } from "../http/mod.ts";

/** What the feed routes need. */
export interface FeedRoutesDeps extends InstrumentDeps {
  /** The served tree (DATA/sync/feed). */
  dir: string;
  /** Checks the downstream node's licence key; null when the feed is open. */
  auth: Pick<LicenceAuthenticator, "authenticate"> | null;
}

const SERVED_NAME =
  /^(?:timestamp\.json|root\.json|root\.\d{1,9}\.json|(?:manifests|snapshots|deltas)\/[A-Za-z0-9][A-Za-z0-9._-]{0,200})$/;
const MUTABLE: ReadonlySet<string> = new Set(["timestamp.json", "root.json"]);

function notFound(name: string): AppError {
  return new AppError("not_found", "not_found", `This node's feed has no file ${quote(name)}`);
}

/** Parses one `bytes=` range against a size; null when there is none, 416 when unsatisfiable. */
function parseRange(header: string | null, size: number): { start: number; end: number } | null {
  if (header === null) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === "" && m[2] === "")) return null; // not one plain range: send it all
  let start: number, end: number;
  if (m[1] === "") {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  // A reversed range is not a valid one: RFC 9110 says to ignore it and send it all.
  if (start > end && start < size) return null;
  if (start >= size) {
    throw new AppError(
      "out_of_range",
      "range_not_satisfiable",
      `Range ${quote(header)} is outside the file`,
      {
        size,
      },
    );
  }
  return { start, end };
}

function fileStream(file: Deno.FsFile, length: number): ReadableStream<Uint8Array> {
  let left = length;
  return new ReadableStream({
    type: "bytes",
    async pull(controller): Promise<void> {
      const buf = new Uint8Array(Math.min(64 * 1024, left));
      const n = left > 0 ? await file.read(buf) : null;
      if (n === null || n === 0) {
        file.close();
        controller.close();
        return;
      }
      left -= n;
      controller.enqueue(buf.subarray(0, n));
    },
    cancel(): void {
      file.close();
    },
  });
}

async function serveFile(c: Context, deps: FeedRoutesDeps): Promise<Response> {
  if (deps.auth) deps.auth.authenticate(c.req.raw.headers);
  const raw = c.req.path.slice("/feed/".length);
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw notFound(raw); // a broken %-escape names no file
  }
  if (!SERVED_NAME.test(name)) throw notFound(name);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(feedPath(deps.dir, name), { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw notFound(name);
    throw err;
  }
  try {
    const size = (await file.stat()).size;
    const range = parseRange(c.req.header("Range") ?? null, size);
    const headers: Record<string, string> = {
      "Content-Type": name.endsWith(".json") ? "application/json" : "application/octet-stream",
      "Cache-Control": MUTABLE.has(name) ? "no-cache" : "public, max-age=31536000, immutable",
      "Accept-Ranges": "bytes",
    };
    const start = range?.start ?? 0;
    const length = range ? range.end - range.start + 1 : size;
    headers["Content-Length"] = String(length);
    if (range) headers["Content-Range"] = `bytes ${range.start}-${range.end}/${size}`;
    const status = range ? 206 : 200;
    if (c.req.method === "HEAD") {
      file.close();
      return new Response(null, { status, headers });
    }
    await file.seek(start, Deno.SeekMode.Start);
    return new Response(fileStream(file, length), { status, headers });
  } catch (err) {
    file.close();
    throw err;
  }
}

/** Adds `GET /feed/*` to `app`. */
export function mountFeedRoutes(app: Hono, deps: FeedRoutesDeps): void {
  app.on(["GET", "HEAD"], "/feed/*", instrument("/feed", deps, (c) => serveFile(c, deps)));
  allowOnly(app, "/feed/*", ["GET"], deps);
}
