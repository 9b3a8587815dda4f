/** Running the Hono app on `Deno.serve`, with a clean shutdown. */
import type { Hono } from "hono";
import { AppError, quote } from "../errors.ts";

/** A listening server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting connections and waits for in-flight requests. */
  shutdown(): Promise<void>;
  /** Settles when the server has stopped. */
  readonly finished: Promise<void>;
}

/** Starts serving `app` on `hostname:port` (port 0 picks a free one). */
export function startServer(
  app: Hono,
  options: { hostname: string; port: number },
): RunningServer {
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      onListen(): void {}, // the caller logs where it listens
    }, app.fetch);
  } catch (err) {
    const why = err instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (err as Error).message;
    throw new AppError(
      500,
      "listen_failed",
      `Cannot listen on ${quote(`${options.hostname}:${options.port}`)}: ${why}`,
      { cause: err },
    );
  }
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `http://${host}:${addr.port}`,
    hostname: addr.hostname,
    port: addr.port,
    shutdown: () => server.shutdown(),
    finished: server.finished,
  };
}
