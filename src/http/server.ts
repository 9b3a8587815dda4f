/**
 * Running the Hono app: accepting connections under the connection limits (see
 * connections.ts), serving each with Deno's HTTP engine, and a clean shutdown.
 */
import type { Hono } from "hono";
import {
  AppError,
  errorBody,
  type Logger,
  quote,
  readNamedFile,
  type Registry,
} from "../core/mod.ts";
import {
  type ConnectionLimits,
  ConnectionTracker,
  registerConnectionMetrics,
} from "./connections.ts";
import { isWholeBody } from "./whole_body.ts";

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

/** PEM texts of a certificate chain and its private key. */
export interface TlsPem {
  cert: string;
  key: string;
}

/** Reads the PEM files named in the config; errors name the file. */
export async function readTls(paths: { cert: string; key: string }): Promise<TlsPem> {
  const read = (path: string, what: string): Promise<string> =>
    readNamedFile(path, `TLS ${what}`, {
      kind: "internal",
      code: "tls_invalid",
      pem: `TLS ${what}`,
    });
  return { cert: await read(paths.cert, "certificate"), key: await read(paths.key, "key") };
}

/** Options for {@link startServer}. */
export interface ServerOptions {
  hostname: string;
  port: number;
  tls?: TlsPem;
  /** Connection limits; without them the server runs on plain `Deno.serve`. */
  limits?: ConnectionLimits;
  /** Where the connection metrics go. */
  registry?: Registry;
  log?: Logger;
}

type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: (request: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>,
  onError: (error: unknown) => Response,
  onListen: () => void,
) => { finished: Promise<void>; shutdown(): Promise<void> };

/**
 * Deno's HTTP engine on one accepted connection. Not part of Deno's public API: Deno's own
 * tests and its node:http layer use it, and this project pins one Deno version. When a
 * future Deno lacks it, the server falls back to `Deno.serve` and says so in the log.
 */
function serveOnConnection(): ServeOnConnection | null {
  const deno = Deno as unknown as Record<symbol, Record<string, unknown> | undefined>;
  const internal = deno[(Deno as unknown as { internal: symbol }).internal];
  const serve = internal?.serveHttpOnConnection;
  return typeof serve === "function" ? serve as ServeOnConnection : null;
}

/** Starts serving `app` on `hostname:port` (port 0 picks a free one), over TLS when given. */
export function startServer(app: Hono, options: ServerOptions): RunningServer {
  const serveOn = options.limits ? serveOnConnection() : null;
  if (options.limits && serveOn === null) {
    options.log?.warn(
      "Connection limits are not enforced: this Deno has no serveHttpOnConnection; " +
        "request-head and idle timeouts and connection caps are off",
    );
  }
  if (serveOn === null) return startDenoServe(app, options);
  let listener: Deno.Listener;
  try {
    listener = options.tls
      ? Deno.listenTls({
        hostname: options.hostname,
        port: options.port,
        cert: options.tls.cert,
        key: options.tls.key,
        alpnProtocols: ["h2", "http/1.1"],
      })
      : Deno.listen({ hostname: options.hostname, port: options.port });
  } catch (err) {
    throw listenError(options, err);
  }
  return acceptLoop(app, listener, serveOn, options);
}

function acceptLoop(
  app: Hono,
  listener: Deno.Listener,
  serveOn: ServeOnConnection,
  options: ServerOptions,
): RunningServer {
  const limits = options.limits!;
  const tracker: ConnectionTracker = new ConnectionTracker(
    limits,
    options.registry ? registerConnectionMetrics(options.registry, () => tracker.size) : undefined,
  );
  const servers = new Set<{ shutdown(): Promise<void> }>();
  const connections = new Set<Promise<void>>();
  let closing = false;
  const onError = (error: unknown): Response => {
    options.log?.error(`Unhandled error in the HTTP server: ${(error as Error)?.message}`);
    return new Response(JSON.stringify(errorBody("internal_error", "Internal error")), {
      status: 500,
      headers: { "Content-Type": "application/json" },
    });
  };
  const serveConnection = (conn: Deno.Conn): void => {
    const address = (conn.remoteAddr as Deno.NetAddr).hostname;
    const tracked = tracker.admit(address);
    if (typeof tracked === "string") {
      connections.add(track(connections, refuse(conn, tracked, limits)));
      return;
    }
    const handler = (
      request: Request,
      info: Deno.ServeHandlerInfo,
    ): Response | Promise<Response> => {
      tracker.requestStarted(tracked);
      let response: Response | Promise<Response>;
      try {
        response = app.fetch(request, info);
      } catch (err) {
        info.completed.then(tracked.ended, tracked.ended);
        throw err;
      }
      if (response instanceof Response && isWholeBody(response)) {
        tracked.ended();
      } else {
        // Settles once the response is fully sent (or the client left): a streamed download
        // keeps its connection busy, not idle.
        info.completed.then(tracked.ended, tracked.ended);
      }
      return response;
    };
    const server = serveOn(conn, tracked.abort.signal, handler, onError, () => {});
    servers.add(server);
    connections.add(track(
      connections,
      server.finished.catch(() => {}).finally(() => {
        servers.delete(server);
        tracker.close(tracked);
      }),
    ));
  };
  let warnedAt = -Infinity;
  const accepting = (async (): Promise<void> => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (closing || err instanceof Deno.errors.BadResource) return;
        // A failed accept (too many open files, say) must not stop the server, nor flood
        // the log while it lasts: one line a minute.
        if (performance.now() - warnedAt > 60_000) {
          warnedAt = performance.now();
          options.log?.warn(`Cannot accept a connection: ${(err as Error).message}`);
        }
        if (err instanceof Deno.errors.Interrupted) continue;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      serveConnection(conn);
    }
  })();
  const addr = listener.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const shutdown = async (): Promise<void> => {
    if (!closing) {
      closing = true;
      listener.close();
    }
    await accepting;
    await Promise.all([...servers].map((s) => s.shutdown().catch(() => {})));
    await Promise.all([...connections]);
    tracker.stop();
  };
  const finished = new Promise<void>((resolve) => {
    accepting.then(async () => {
      await Promise.all([...connections]);
      resolve();
    });
  });
  return {
    url: `${options.tls ? "https" : "http"}://${host}:${addr.port}`,
    hostname: addr.hostname,
    port: addr.port,
    shutdown,
    finished,
  };
}

/** Adds a settling promise to a set and removes it once settled. */
function track(set: Set<Promise<void>>, promise: Promise<void>): Promise<void> {
  const tracked: Promise<void> = promise.finally(() => set.delete(tracked));
  return tracked;
}

const REFUSALS: Readonly<Record<"limit" | "per_client", string>> = {
  limit: "The node has as many open connections as it allows",
  per_client: "This client address has as many open connections as the node allows",
};

/**
 * Answers a connection over a limit with the one JSON error shape (503, `Retry-After`) and
 * closes it; a client that does not read its answer within a second is simply cut off.
 */
async function refuse(
  conn: Deno.Conn,
  reason: "limit" | "per_client",
  limits: ConnectionLimits,
): Promise<void> {
  const limit = reason === "limit" ? limits.maxConnections : limits.maxConnectionsPerClient;
  const body = JSON.stringify(
    errorBody("too_many_connections", `${REFUSALS[reason]}: ${limit}; retry shortly`),
  );
  const response = "HTTP/1.1 503 Service Unavailable\r\n" +
    "Content-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n" +
    `Content-Length: ${body.length}\r\n\r\n${body}`;
  const timer = setTimeout(() => conn.close(), 1000);
  try {
    await conn.write(new TextEncoder().encode(response));
  } catch {
    // The client is gone or never finished the TLS handshake: nothing to tell it.
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Already closed by the timer.
    }
  }
}

function listenError(options: ServerOptions, err: unknown): AppError {
  const why = err instanceof Deno.errors.AddrInUse
    ? "address already in use"
    : err instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : options.tls
    ? `TLS certificate or key rejected: ${(err as Error).message}`
    : (err as Error).message;
  return new AppError(
    "internal",
    "listen_failed",
    `Cannot listen on ${quote(`${options.hostname}:${options.port}`)}: ${why}`,
    { cause: err },
  );
}

/** Plain `Deno.serve`: no connection limits. */
function startDenoServe(app: Hono, options: ServerOptions): RunningServer {
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      ...(options.tls ?? {}),
      onListen(): void {}, // the caller logs where it listens
    }, app.fetch);
  } catch (err) {
    throw listenError(options, err);
  }
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `${options.tls ? "https" : "http"}://${host}:${addr.port}`,
    hostname: addr.hostname,
    port: addr.port,
    shutdown: () => server.shutdown(),
    finished: server.finished,
  };
}
