/**
 * A fake parent node on loopback for the forwarding tests: it records what it
 * receives, deduplicates as the real one does and fails on request.
 */

/** One request that reached the fake parent. */
export interface Arrival {
  path: string;
  headers: Headers;
  body: Uint8Array;
}

/** How the fake parent answers the next request. */
export type Misbehaviour =
  | { status: number; retryAfter?: string }
  /** Stores the batch, then cuts the connection before the answer is complete. */
  | { drop: true }
  /** Answers after this many milliseconds. */
  | { delayMs: number };

/**
 * A parent node on 127.0.0.1: `POST /v1/stats` deduplicates by Idempotency-Key
 * as the real one does, `POST /v1/samples` by SHA-256. It can be stopped and
 * started again on the same port.
 */
export class FakeParent implements AsyncDisposable {
  /** Every request, including failed and repeated ones. */
  readonly arrivals: Arrival[] = [];
  /** Statistics batches stored, by Idempotency-Key: each key once. */
  readonly batches = new Map<string, Uint8Array>();
  /** How many times each Idempotency-Key was stored (must stay 1). */
  readonly stores = new Map<string, number>();
  /** Samples stored, by SHA-256. */
  readonly samples = new Map<string, Arrival>();
  /** Answers for the next requests, first one first; then all is well. */
  readonly plan: Misbehaviour[] = [];
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #port = 0;
  readonly #tls: { cert: string; key: string } | undefined;

  /** A parent over plain HTTP, or HTTPS with this PEM certificate and key. */
  constructor(tls?: { cert: string; key: string }) {
    this.#tls = tls;
  }

  /** Starts listening (again, on the same port once it had one). */
  start(): this {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: this.#port, ...this.#tls, onListen(): void {} },
      (request) => this.#handle(request),
    );
    this.#port = this.#server.addr.port;
    return this;
  }

  /** Stops listening: the forwarder then sees connections refused. */
  async stop(): Promise<void> {
    await this.#server?.shutdown();
    this.#server = undefined;
  }

  /** The base URL. */
  get url(): string {
    return `${this.#tls ? "https" : "http"}://127.0.0.1:${this.#port}`;
  }

  /** Fails the next `n` requests the same way. */
  failNext(n: number, how: Misbehaviour): void {
    for (let i = 0; i < n; i++) this.plan.push(how);
  }

  /** The Idempotency-Keys of the statistics requests, in arrival order (retries included). */
  statisticsKeys(): string[] {
    return this.arrivals.filter((a) => a.path === "/v1/stats").map((a) =>
      a.headers.get("idempotency-key") ?? ""
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #handle(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    const body = new Uint8Array(await request.arrayBuffer());
    this.arrivals.push({ path, headers: request.headers, body });
    const how = this.plan.shift();
    if (how && "delayMs" in how) await new Promise((r) => setTimeout(r, how.delayMs));
    if (how && "status" in how) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (how.retryAfter !== undefined) headers["retry-after"] = how.retryAfter;
      return new Response(
        JSON.stringify({
          error: { code: "fake_failure", message: `Told to answer ${how.status}` },
        }),
        { status: how.status, headers },
      );
    }
    let status = 201;
    if (path === "/v1/stats") {
      const key = request.headers.get("idempotency-key") ?? "";
      if (this.batches.has(key)) status = 200;
      else {
        this.batches.set(key, body);
        this.stores.set(key, (this.stores.get(key) ?? 0) + 1);
      }
    } else if (path === "/v1/samples") {
      const sha256 = request.headers.get("x-sample-sha256") ?? "";
      if (this.samples.has(sha256)) status = 200;
      else this.samples.set(sha256, { path, headers: request.headers, body });
    } else {
      return new Response("not found", { status: 404 });
    }
    if (how && "drop" in how) {
      // The batch is stored, but the answer breaks off: the child cannot know.
      return new Response(
        new ReadableStream({
          start(controller): void {
            controller.enqueue(new TextEncoder().encode('{"accep'));
            controller.error(new Error("connection dropped by the test"));
          },
        }),
        { status },
      );
    }
    return Response.json({ accepted: true }, { status });
  }
}

/** Starts a fake parent. */
export function startFakeParent(): FakeParent {
  return new FakeParent().start();
}
