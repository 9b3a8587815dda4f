/**
 * Connection limits for the HTTP server: a deadline for each request head, an idle timeout
 * for kept-alive connections, a deadline for answering a request, and caps on open
 * connections in all and per client address. `Deno.serve` has none of these, so the server
 * accepts connections itself and serves each one with Deno's own HTTP engine
 * (`serveHttpOnConnection`), which answers exactly as `Deno.serve` does.
 */
import { Counter, Gauge, type Registry } from "../core/mod.ts";

/** The limits, in the units of the `server` config section. */
export interface ConnectionLimits {
  /** A new connection's first request head must have arrived within this. */
  headTimeoutSeconds: number;
  /** A kept-alive connection's next request head must have arrived within this. */
  idleTimeoutSeconds: number;
  /** A request must be read and answered within this (long uploads included). */
  requestTimeoutSeconds: number;
  /** Open connections in all; more are answered 503 and closed. */
  maxConnections: number;
  /** Open connections from one client address; more are answered 503 and closed. */
  maxConnectionsPerClient: number;
}

/** Why a connection was closed by the node rather than by its client. */
export type TimeoutPhase = "head" | "idle" | "request";

/** The counters and gauges of the connection layer. */
export interface ConnectionMetrics {
  opened: Counter;
  refused: Counter;
  timeouts: Counter;
}

/** Registers the connection metrics; `open` reads the current count on each scrape. */
export function registerConnectionMetrics(
  registry: Registry,
  open: () => number,
): ConnectionMetrics {
  registry.register(
    new Gauge(
      "pksn_http_connections_open",
      "Open client connections",
      [],
      function* readOpen(): Generator<[string[], number]> {
        yield [[], open()];
      },
    ),
  );
  return {
    opened: registry.register(
      new Counter("pksn_http_connections_total", "Client connections accepted", []),
    ),
    refused: registry.register(
      new Counter(
        "pksn_http_connections_refused_total",
        "Connections answered 503 and closed at once, by the limit they hit",
        ["reason"],
      ),
    ),
    timeouts: registry.register(
      new Counter(
        "pksn_http_connection_timeouts_total",
        "Connections closed by the node, by what they were waiting for",
        ["phase"],
      ),
    ),
  };
}

/** One open connection, as the sweep sees it. */
export interface Tracked {
  readonly address: string;
  readonly abort: AbortController;
  /** Ends a request; made once per connection, so a request allocates no closure for it. */
  readonly ended: () => void;
  /** Requests being handled now. */
  inFlight: number;
  /** Requests handled so far. */
  served: number;
  /** performance.now() when the connection opened, went idle, or its request started. */
  since: number;
}

/**
 * Tracks open connections and closes those past a deadline. One timer sweeps them all once
 * a second (rather than a timer per request), so a request costs two counter updates.
 */
export class ConnectionTracker {
  readonly #limits: ConnectionLimits;
  readonly #metrics: ConnectionMetrics | undefined;
  readonly #open = new Set<Tracked>();
  readonly #perClient = new Map<string, number>();
  #sweep: ReturnType<typeof setInterval> | undefined;

  constructor(limits: ConnectionLimits, metrics?: ConnectionMetrics) {
    this.#limits = limits;
    this.#metrics = metrics;
  }

  /** Open connections now. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Admits a connection from `address`, or says which limit refuses it. An admitted one must
   * be given back through {@link close}.
   */
  admit(address: string): Tracked | "limit" | "per_client" {
    if (this.#open.size >= this.#limits.maxConnections) return "limit";
    const fromClient = this.#perClient.get(address) ?? 0;
    if (fromClient >= this.#limits.maxConnectionsPerClient) return "per_client";
    this.#perClient.set(address, fromClient + 1);
    const tracked: Tracked = {
      address,
      abort: new AbortController(),
      ended: () => this.requestEnded(tracked),
      inFlight: 0,
      served: 0,
      since: performance.now(),
    };
    this.#open.add(tracked);
    this.#metrics?.opened.inc();
    if (this.#sweep === undefined) {
      const sweep = setInterval(() => this.#closeOverdue(), 1000);
      // The sweep alone must not keep the process alive.
      Deno.unrefTimer(sweep);
      this.#sweep = sweep;
    }
    return tracked;
  }

  /** Marks the start of a request on a connection. */
  requestStarted(tracked: Tracked): void {
    if (tracked.inFlight++ === 0) tracked.since = performance.now();
  }

  /**
   * Marks the end of a request (its response fully sent, or the client gone); the connection
   * is idle again when none is left.
   */
  requestEnded(tracked: Tracked): void {
    tracked.served++;
    if (--tracked.inFlight === 0) tracked.since = performance.now();
  }

  /** Forgets a connection that has closed. */
  close(tracked: Tracked): void {
    if (!this.#open.delete(tracked)) return;
    const left = (this.#perClient.get(tracked.address) ?? 1) - 1;
    if (left > 0) this.#perClient.set(tracked.address, left);
    else this.#perClient.delete(tracked.address);
    if (this.#open.size === 0 && this.#sweep !== undefined) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }

  /** Stops the sweep (the server is shutting down). */
  stop(): void {
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  #closeOverdue(): void {
    const now = performance.now();
    const { headTimeoutSeconds, idleTimeoutSeconds, requestTimeoutSeconds } = this.#limits;
    for (const tracked of this.#open) {
      const phase: TimeoutPhase = tracked.inFlight > 0
        ? "request"
        : tracked.served === 0
        ? "head"
        : "idle";
      const limit = phase === "request"
        ? requestTimeoutSeconds
        : phase === "head"
        ? headTimeoutSeconds
        : idleTimeoutSeconds;
      if (now - tracked.since < limit * 1000 || tracked.abort.signal.aborted) continue;
      this.#metrics?.timeouts.inc(phase);
      tracked.abort.abort();
    }
  }
}
