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

/** PEM texts of a certificate chain and its private key. */
export interface TlsPem {
  cert: string;
  key: string;
}

/** Reads the PEM files named in the config; errors name the file. */
export async function readTls(paths: { cert: string; key: string }): Promise<TlsPem> {
  const read = async (path: string, what: string): Promise<string> => {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      throw new AppError(
        500,
        "tls_invalid",
        `Cannot read TLS ${what} ${quote(path)}: ${(err as Error).message}`,
      );
    }
    if (!text.includes("-----BEGIN ")) {
      throw new AppError(500, "tls_invalid", `TLS ${what} ${quote(path)} is not PEM`);
    }
    return text;
  };
  return { cert: await read(paths.cert, "certificate"), key: await read(paths.key, "key") };
}

/** Starts serving `app` on `hostname:port` (port 0 picks a free one), over TLS when given. */
export function startServer(
  app: Hono,
  options: { hostname: string; port: number; tls?: TlsPem },
): RunningServer {
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      ...(options.tls ?? {}),
      onListen(): void {}, // the caller logs where it listens
    }, app.fetch);
  } catch (err) {
    const why = err instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : options.tls
      ? `TLS certificate or key rejected: ${(err as Error).message}`
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
    url: `${options.tls ? "https" : "http"}://${host}:${addr.port}`,
    hostname: addr.hostname,
    port: addr.port,
    shutdown: () => server.shutdown(),
    finished: server.finished,
  };
}
