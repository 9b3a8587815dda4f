/**
 * DNS over TCP (RFC 7766): two-byte length framing, queries answered one after another on a
 * connection, zone transfers streamed with back-pressure. Bounded: open connections in all and
 * per client, a deadline for each message to arrive and for each write to be taken, and nothing
 * a client sends can throw out of the connection loop.
 */
import type { Buffer } from "node:buffer";
import type { Logger } from "../core/mod.ts";
import type { Outcome } from "./answer.ts";

/** What the TCP side needs. */
export interface TcpDeps {
  /** Answers one message; `address` is the client's. */
  answer(bytes: Uint8Array, address: string): Outcome;
  /** The messages of a zone transfer. */
  transfer(outcome: Extract<Outcome, { kind: "transfer" }>): AsyncIterable<Buffer>;
  log: Logger;
}

/** Limits of the TCP side. */
export const TCP_LIMITS = {
  /** Open connections in all; more are closed at once. */
  connections: 256,
  /** Open connections from one address. */
  perClient: 16,
  /** A message (or the next one) must arrive within this. */
  idleMs: 10_000,
  /** A write must be taken within this (a transfer to a client that stopped reading ends). */
  writeMs: 30_000,
} as const;

/** Accepts connections on `listener`; `stop` closes it and every open connection. */
export function serveTcp(
  listener: Deno.TcpListener,
  deps: TcpDeps,
): { stop(): Promise<void> } {
  const perClient = new Map<string, number>();
  const live = new Set<Deno.TcpConn>();
  const running = new Set<Promise<void>>();
  const accepting = (async (): Promise<void> => {
    try {
      for await (const conn of listener) {
        const address = conn.remoteAddr.hostname;
        const fromClient = perClient.get(address) ?? 0;
        if (live.size >= TCP_LIMITS.connections || fromClient >= TCP_LIMITS.perClient) {
          closeQuietly(conn);
          continue;
        }
        live.add(conn);
        perClient.set(address, fromClient + 1);
        const done: Promise<void> = serveConnection(conn, address, deps).finally(() => {
          live.delete(conn);
          const left = (perClient.get(address) ?? 1) - 1;
          if (left === 0) perClient.delete(address);
          else perClient.set(address, left);
          running.delete(done);
        });
        running.add(done);
      }
    } catch (err) {
      if (!isConnectionError(err)) throw err;
    }
  })();
  return {
    async stop(): Promise<void> {
      closeQuietly(listener);
      for (const conn of live) closeQuietly(conn);
      await accepting;
      await Promise.all(running);
    },
  };
}

async function serveConnection(conn: Deno.TcpConn, address: string, deps: TcpDeps): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (ms: number): void => {
    clearTimeout(timer);
    timer = setTimeout(() => closeQuietly(conn), ms);
  };
  const lengthBytes = new Uint8Array(2);
  try {
    while (true) {
      arm(TCP_LIMITS.idleMs);
      if (!await readExactly(conn, lengthBytes)) return;
      const length = (lengthBytes[0] << 8) | lengthBytes[1];
      if (length < 12) return; // not a DNS message: nothing to answer
      const message = new Uint8Array(length);
      if (!await readExactly(conn, message)) return;
      const outcome = deps.answer(message, address);
      if (outcome.kind === "drop") return;
      if (outcome.kind === "reply") {
        arm(TCP_LIMITS.writeMs);
        await writeFramed(conn, outcome.bytes);
        continue;
      }
      for await (const bytes of deps.transfer(outcome)) {
        arm(TCP_LIMITS.writeMs);
        await writeFramed(conn, bytes);
      }
    }
  } catch (err) {
    if (!isConnectionError(err)) {
      deps.log.error(`Cannot answer a DNS client over TCP: ${(err as Error).message}`, {
        client: address,
      });
    }
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
}

async function readExactly(conn: Deno.Conn, into: Uint8Array): Promise<boolean> {
  let at = 0;
  while (at < into.length) {
    const n = await conn.read(into.subarray(at));
    if (n === null) return false;
    at += n;
  }
  return true;
}

async function writeFramed(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  const framed = new Uint8Array(bytes.length + 2);
  framed[0] = bytes.length >> 8;
  framed[1] = bytes.length & 0xff;
  framed.set(bytes, 2);
  let at = 0;
  while (at < framed.length) at += await conn.write(framed.subarray(at));
}

function isConnectionError(err: unknown): boolean {
  return err instanceof Deno.errors.BadResource || err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.BrokenPipe || err instanceof Deno.errors.Interrupted ||
    err instanceof Deno.errors.UnexpectedEof || err instanceof Deno.errors.NotConnected;
}

function closeQuietly(conn: { close(): void }): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
