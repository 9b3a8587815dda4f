/** `POST /v1/lookup`: many objects of any type in one request, answered in order. */
import type { Hono } from "hono";
import { z } from "zod";
import { AppError, Gate, InvalidInputError } from "../core/mod.ts";
import type { LookupItem, LookupItemError, LookupResult, Reputation } from "../reputation/mod.ts";
import {
  allowOnly,
  instrument,
  type InstrumentDeps,
  parseJson,
  readJsonBytes,
} from "../http/mod.ts";
import type { LookupProxy } from "./objects.ts";
import type { AnswerText } from "./answer_text.ts";
import { BatchBuffers, BatchBytes, VerdictRuns } from "./batch_bytes.ts";
import { scanBatch, type ScannedBatch } from "./batch_scan.ts";

/** What the batch route needs. */
export interface BatchRoutesDeps extends InstrumentDeps {
  reputation: Reputation;
  /** Checks the client's licence; null when licences are not required. */
  guard: ((headers: Headers) => unknown) | null;
  maxItems: number;
  maxBodyBytes: number;
  /** Milliseconds of look-up work one batch may use; later items answer `batch_budget_exceeded`. */
  budgetMs: number;
  /** Asks the parent about what nothing here answers; absent when the proxy is off. */
  proxy?: LookupProxy;
  /** Turns answers into JSON text. */
  answers: AnswerText;
  /** Milliseconds from a monotonic clock; tests pass one that jumps. */
  now?: () => number;
}

// A batch looks up this many items between checks of the time it has used.
const SLICE_ITEMS = 64;
// After this much work in one go, the batch lets other requests (health checks, other
// clients) run before going on: a heavy batch slows itself, not the node.
const SLICE_MS = 4;
// Batches read and looked up at once: one looked up while the next is read. The rest wait
// before reading their bodies, so fifty clients posting at once hold two parsed bodies and
// two sets of answers in memory, not fifty interleaved ones (measured: a 50-connection batch
// load grew the node by about 50 MB without this). They lose no throughput: the look-ups
// share one thread anyway.
const BATCHES_AT_ONCE = 2;

/** The body of `POST /v1/lookup`; each item is checked on its own, so a bad one gets its own error. */
export const lookupBatchSchema = z.strictObject({ items: z.array(z.unknown()) });

function isItem(item: unknown): item is LookupItem {
  return typeof item === "object" && item !== null &&
    typeof (item as LookupItem).type === "string" && typeof (item as LookupItem).value === "string";
}

/** Adds the batch look-up route to `app`. */
export function mountBatchRoutes(app: Hono, deps: BatchRoutesDeps): void {
  const { reputation, metrics, maxItems, guard, proxy } = deps;
  const now = deps.now ?? (() => performance.now());
  const gate = new Gate(BATCHES_AT_ONCE);
  // Buffers for the batches inside the gate, kept between them: at most BATCHES_AT_ONCE.
  const spare: BatchBuffers[] = [];
  app.post(
    "/v1/lookup",
    instrument("/v1/lookup", deps, async function lookupBatch(c): Promise<Response> {
      if (guard !== null) guard(c.req.raw.headers);
      let looked: { results: unknown[]; items: number };
      await gate.enter();
      // The proxy resolves misses on result objects: with it on, every batch takes the JSON path.
      const buffers = proxy === undefined ? spare.pop() ?? new BatchBuffers(maxItems) : null;
      try {
        const body = await readJsonBytes(c, deps.maxBodyBytes);
        const scanned = buffers === null ? null : scanBatch(body, buffers.spans);
        if (scanned !== null) {
          // The response copies the answer's bytes before the buffers go back for another batch.
          return c.body(await answerScanned(body, scanned, buffers!), 200, JSON_HEADERS);
        }
        looked = await lookUpParsed(body);
      } finally {
        if (buffers?.keepable) spare.push(buffers);
        gate.leave();
      }
      const results = looked.results;
      // All of the batch's misses at once: the proxy asks the parent in as few requests as it
      // can, and the client waits for them once (outside the gate: that wait is the network's).
      if (proxy !== undefined) await proxy.resolve(results as (LookupResult | LookupItemError)[]);
      const verdicts = new VerdictRuns(countVerdict);
      for (const r of results as LookupResult[]) {
        if (r.verdict !== undefined) verdicts.add(r.type, r.verdict);
      }
      verdicts.flush();
      metrics.lookupsPerMinute.add(looked.items);
      return c.body(resultsJson(results, deps.answers), 200, JSON_HEADERS);
    }),
  );
  allowOnly(app, "/v1/lookup", ["POST"], deps);

  /** A body in the plain form, answered from its bytes: see batch_scan.ts and batch_bytes.ts. */
  async function answerScanned(
    body: Uint8Array,
    scanned: ScannedBatch,
    buffers: BatchBuffers,
  ): Promise<Uint8Array<ArrayBuffer>> {
    refuseTooMany(scanned.count);
    const verdicts = new VerdictRuns(countVerdict);
    const out = new BatchBytes(body, scanned, reputation, deps.answers, verdicts, buffers);
    const done = await inSlices(scanned.count, (from, to) => out.answer(from, to));
    if (done < scanned.count) out.refuse(done, scanned.count, overBudget(deps.budgetMs));
    verdicts.flush();
    metrics.lookupsPerMinute.add(scanned.count);
    return out.finish();
  }

  function countVerdict(type: string, verdict: string, by: number): void {
    metrics.verdicts.inc(type, verdict, by);
  }

  /** Any other body, parsed as JSON: each item's result or error, in input order. */
  async function lookUpParsed(body: Uint8Array): Promise<{ results: unknown[]; items: number }> {
    const parsed = lookupBatchSchema.safeParse(parseJson(body));
    if (!parsed.success) {
      throw new InvalidInputError(
        "invalid_request",
        'Expected a JSON object {"items":[{"type":"file","value":"..."}, ...]}',
      );
    }
    const items = parsed.data.items;
    refuseTooMany(items.length);
    const good: LookupItem[] = [];
    const positions: number[] = [];
    const results: unknown[] = new Array(items.length);
    items.forEach((item, i) => {
      if (isItem(item)) {
        good.push(item);
        positions.push(i);
      } else {
        results[i] = {
          error: {
            code: "invalid_item",
            message: `Item ${i}: expected an object with string "type" and "value"`,
          },
        };
      }
    });
    const done = await inSlices(good.length, (from, to) => {
      const answers = reputation.lookupMany(
        from === 0 && to === good.length ? good : good.slice(from, to),
      );
      for (let j = 0; j < answers.length; j++) results[positions[from + j]] = answers[j];
    });
    const error = overBudget(deps.budgetMs);
    for (let j = done; j < good.length; j++) {
      results[positions[j]] = { type: good[j].type, value: good[j].value, error };
    }
    return { results, items: good.length };
  }

  function refuseTooMany(count: number): void {
    if (count <= maxItems) return;
    throw new AppError(
      "too_large",
      "too_many_items",
      `Too many items: ${count}; at most ${maxItems} per request`,
    );
  }

  /**
   * Runs `slice` over items 0 to `count` a few at a time, letting other requests run after
   * each {@link SLICE_MS} of work, until the batch's budget is used. Returns how many items it
   * looked up; the rest answer `batch_budget_exceeded`.
   */
  async function inSlices(
    count: number,
    slice: (from: number, to: number) => void,
  ): Promise<number> {
    const started = now();
    let sliceStarted = started;
    for (let from = 0; from < count; from += SLICE_ITEMS) {
      const at = now();
      if (at - started > deps.budgetMs) {
        metrics.budgetExceeded.inc();
        return from;
      }
      if (at - sliceStarted > SLICE_MS) {
        await yieldToEventLoop();
        sliceStarted = now();
      }
      slice(from, Math.min(count, from + SLICE_ITEMS));
    }
    return count;
  }
}

const JSON_HEADERS = { "Content-Type": "application/json" } as const;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The error of the items a batch had no time left for. */
function overBudget(budgetMs: number): { code: string; message: string } {
  return {
    code: "batch_budget_exceeded",
    message: `Not looked up: the batch used its ${budgetMs} ms of look-up time; ` +
      "send the remaining items in another request",
  };
}

/** `{"results":[...]}` as text; an item with its own error has no verdict and is stringified. */
function resultsJson(results: readonly unknown[], answers: AnswerText): string {
  const parts: string[] = new Array(results.length);
  for (let i = 0; i < results.length; i++) {
    const r = results[i] as LookupResult;
    parts[i] = r.verdict === undefined ? JSON.stringify(r) : answers.of(r);
  }
  return `{"results":[${parts.join(",")}]}`;
}
