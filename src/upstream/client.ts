/**
 * The client for the parent node: statistics batches and samples go to its
 * `POST /v1/stats` and `POST /v1/samples` with this node's licence key. Every
 * failure is an {@link UpstreamError} that says whether a retry can help.
 */
import type { SampleMeta } from "../samples/mod.ts";
import { AppError, ConfigError, parseRetryAfter, quote, readCaCert } from "../core/mod.ts";
import { type ParentAnswer, type ParentLookupItem, readLookupAnswer } from "./lookup_answer.ts";

export { parseRetryAfter };

/** What the parent said about a statistics batch it took (its `POST /v1/stats` answer). */
export interface StatisticsReceipt {
  /** Records it refused (they will be refused again: retrying cannot help), when it said. */
  rejected: number;
  /** Its reason for the first refused record, when it gave one. */
  firstError: string | null;
}

/** The parent node as the forwarder sees it; tests hand in fakes. */
export interface Upstream {
  /** Sends one NDJSON statistics batch; `batchId` is the idempotency key. */
  sendStatistics(batchId: string, ndjson: Uint8Array): Promise<StatisticsReceipt>;
  /** Sends one sample, identified by its SHA-256 (hex). */
  sendSample(sha256: string, bytes: Uint8Array, meta: SampleMeta): Promise<void>;
}

/** The parent node as the KSN proxy sees it; tests hand in fakes. */
export interface ParentLookup {
  /**
   * Asks the parent's `POST /v1/lookup` about `items`; answers in their order, null for an
   * item the parent answered with an error. Gives up after `timeoutMs`.
   */
  lookupBatch(
    items: readonly ParentLookupItem[],
    timeoutMs: number,
  ): Promise<(ParentAnswer | null)[]>;
}

// A parent's answer to a batch is about 300 bytes an item; this bounds a broken or hostile
// parent's answer far above any real one (10,000 items).
const MAX_LOOKUP_ANSWER_BYTES = 32 * 1024 * 1024;

/** A failed send; `retryable` says whether the same request may succeed later. */
export class UpstreamError extends AppError {
  /** Network failures, timeouts, 408, 429 and 5xx: try again later. */
  readonly retryable: boolean;
  /** The parent's `Retry-After`, in seconds, when it sent one. */
  readonly retryAfterSeconds: number | null;
  /** The parent's HTTP status, or null when no answer arrived. */
  readonly upstreamStatus: number | null;

  constructor(
    message: string,
    options: {
      retryable: boolean;
      retryAfterSeconds?: number | null;
      upstreamStatus?: number | null;
      cause?: unknown;
    },
  ) {
    super("upstream", "upstream_failed", message, { cause: options.cause });
    this.name = "UpstreamError";
    this.retryable = options.retryable;
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
    this.upstreamStatus = options.upstreamStatus ?? null;
  }
}

/** Whether an HTTP status from the parent is worth retrying. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Options for {@link HttpUpstream}. */
export interface HttpUpstreamOptions {
  /** The parent's base URL, e.g. `https://core.example:8443`. */
  url: string;
  /** This node's licence key at the parent. */
  key: string;
  timeoutSeconds: number;
  /** PEM text of a CA to trust for the parent's TLS, besides the system's. */
  caCert?: string | null;
}

/** The parent node over HTTP(S). */
export class HttpUpstream implements Upstream, ParentLookup {
  readonly #base: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;
  readonly #client: Deno.HttpClient | undefined;

  constructor(options: HttpUpstreamOptions) {
    this.#base = options.url.replace(/\/+$/, "");
    this.#authorization = `Bearer ${options.key}`;
    this.#timeoutMs = options.timeoutSeconds * 1000;
    this.#client = options.caCert
      ? Deno.createHttpClient({ caCerts: [options.caCert] })
      : undefined;
  }

  /** The parent's base URL. */
  get url(): string {
    return this.#base;
  }

  async sendStatistics(batchId: string, ndjson: Uint8Array): Promise<StatisticsReceipt> {
    const answer = await this.#post("/v1/stats", ndjson, {
      "content-type": "application/x-ndjson",
      "idempotency-key": batchId,
    });
    return readReceipt(answer);
  }

  async sendSample(sha256: string, bytes: Uint8Array, meta: SampleMeta): Promise<void> {
    const headers: Record<string, string> = {
      "content-type": "application/octet-stream",
      "x-sample-sha256": sha256,
    };
    if (meta.extension) headers["x-sample-name"] = `sample.${meta.extension}`;
    if (meta.detection) headers["x-detection"] = meta.detection;
    await this.#post("/v1/samples", bytes, headers);
  }

  async lookupBatch(
    items: readonly ParentLookupItem[],
    timeoutMs: number,
  ): Promise<(ParentAnswer | null)[]> {
    const body = new TextEncoder().encode(JSON.stringify({ items }));
    const text = await this.#post("/v1/lookup", body, { "content-type": "application/json" }, {
      timeoutMs,
      maxBytes: MAX_LOOKUP_ANSWER_BYTES,
    });
    try {
      return readLookupAnswer(text, items);
    } catch (err) {
      throw new UpstreamError(
        `Upstream ${quote(this.#base + "/v1/lookup")} gave an answer this node cannot use: ${
          (err as Error).message
        }`,
        { retryable: true, cause: err },
      );
    }
  }

  /** Releases the TLS client, if one was made for the CA. */
  close(): void {
    this.#client?.close();
  }

  /** POSTs `body` and returns the text of a 2xx answer; anything else throws. */
  async #post(
    path: string,
    body: Uint8Array,
    headers: Record<string, string>,
    limits: { timeoutMs?: number; maxBytes?: number } = {},
  ): Promise<string> {
    const url = this.#base + path;
    const timeoutMs = limits.timeoutMs ?? this.#timeoutMs;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: "POST",
        body: body as Uint8Array<ArrayBuffer>,
        headers: { ...headers, authorization: this.#authorization },
        // A redirect would carry the licence key elsewhere; a moved parent is a config change.
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
        client: this.#client,
      });
      // The whole answer must arrive: a connection cut after the status line may
      // or may not have stored the batch, and only a retry with the same key tells.
      text = limits.maxBytes === undefined
        ? await response.text()
        : await boundedText(response, limits.maxBytes);
    } catch (err) {
      const why = (err as Error).name === "TimeoutError"
        ? `no answer within ${timeoutMs / 1000} s`
        : (err as Error).message;
      throw new UpstreamError(`Cannot reach upstream ${quote(url)}: ${why}`, {
        retryable: true,
        cause: err,
      });
    }
    if (response.ok) return text;
    const status = response.status;
    const retryable = isRetryableStatus(status);
    throw new UpstreamError(
      `Upstream ${quote(url)} answered ${status}${detail(text)}${advice(status)}`,
      {
        retryable,
        upstreamStatus: status,
        retryAfterSeconds: retryable
          ? parseRetryAfter(response.headers.get("retry-after"), Date.now())
          : null,
      },
    );
  }
}

/** The body as text, or an error once it passes `maxBytes`. */
async function boundedText(response: Response, maxBytes: number): Promise<string> {
  if (response.body === null) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.length;
    // Leaving the loop by throwing cancels the stream.
    if (size > maxBytes) {
      throw new Error(`the answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(all);
}

/** What the operator should check when the parent refuses this node itself. */
function advice(status: number): string {
  if (status !== 401 && status !== 403) return "";
  return "; check this node's licence key in upstream.key, and that the parent has that " +
    "licence registered, active and allowing statistics (mode with-statistics)";
}

function readReceipt(text: string): StatisticsReceipt {
  let body: { rejected?: unknown; errors?: { message?: unknown }[] };
  try {
    body = JSON.parse(text);
  } catch {
    return { rejected: 0, firstError: null };
  }
  const rejected = typeof body?.rejected === "number" ? body.rejected : 0;
  const first = Array.isArray(body?.errors) ? body.errors[0]?.message : undefined;
  return { rejected, firstError: typeof first === "string" ? first.slice(0, 300) : null };
}

/** The parent's error code and message, when it answered in pksn's error shape. */
function detail(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const { code, message } = body.error ?? {};
    if (typeof code === "string" && typeof message === "string") {
      return `: ${code}: ${message.slice(0, 300)}`;
    }
  } catch {
    // not JSON: fall through to the plain text
  }
  const plain = text.trim().slice(0, 200);
  return plain ? `: ${plain}` : "";
}

/**
 * Builds the client from the `upstream` config section, or returns null when no
 * parent is configured. The key is required with a URL; the CA file is read here.
 */
export async function createHttpUpstream(
  config: { url: string | null; key: string | null; timeoutSeconds: number; caCert: string | null },
): Promise<HttpUpstream | null> {
  if (config.url === null) return null;
  if (config.key === null) {
    throw new ConfigError(
      'Invalid configuration "upstream.key": required when "upstream.url" is set',
    );
  }
  const caCert = config.caCert === null
    ? null
    : await readCaCert(config.caCert, "upstream CA certificate");
  return new HttpUpstream({
    url: config.url,
    key: config.key,
    timeoutSeconds: config.timeoutSeconds,
    caCert,
  });
}
