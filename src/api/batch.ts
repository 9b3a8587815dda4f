/** `POST /v1/lookup`: many objects of any type in one request, answered in order. */
import type { Context, Hono } from "hono";
import { z } from "zod";
import { AppError, type Counter, Gate, InvalidInputError } from "../core/mod.ts";
import type { LookupItem, LookupItemError, LookupResult, Reputation } from "../reputation/mod.ts";
import { allowOnly, instrument, type InstrumentDeps, readJson } from "../http/mod.ts";
import type { LookupProxy } from "./objects.ts";
import type { AnswerText } from "./answer_text.ts";

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
  app.post(
    "/v1/lookup",
    instrument("/v1/lookup", deps, async function lookupBatch(c): Promise<Response> {
      if (guard !== null) guard(c.req.raw.headers);
      let looked: { results: unknown[]; items: number };
      await gate.enter();
      try {
        looked = await lookUp(c);
      } finally {
        gate.leave();
      }
      const results = looked.results;
      // All of the batch's misses at once: the proxy asks the parent in as few requests as it
      // can, and the client waits for them once (outside the gate: that wait is the network's).
      if (proxy !== undefined) await proxy.resolve(results as (LookupResult | LookupItemError)[]);
      countVerdicts(results as LookupResult[], metrics.verdicts);
      metrics.lookupsPerMinute.add(looked.items);
      return c.body(resultsJson(results, deps.answers), 200, JSON_HEADERS);
    }),
  );
  allowOnly(app, "/v1/lookup", ["POST"], deps);

  /** Reads the body and looks every item up: the answers in input order, and how many were items. */
  async function lookUp(c: Context): Promise<{ results: unknown[]; items: number }> {
    const parsed = lookupBatchSchema.safeParse(await readJson(c, deps.maxBodyBytes));
    if (!parsed.success) {
      throw new InvalidInputError(
        "invalid_request",
        'Expected a JSON object {"items":[{"type":"file","value":"..."}, ...]}',
      );
    }
    const items = parsed.data.items;
    if (items.length > maxItems) {
      throw new AppError(
        "too_large",
        "too_many_items",
        `Too many items: ${items.length}; at most ${maxItems} per request`,
      );
    }
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
    const started = now();
    let sliceStarted = started;
    for (let from = 0; from < good.length; from += SLICE_ITEMS) {
      const to = Math.min(good.length, from + SLICE_ITEMS);
      const at = now();
      if (at - started > deps.budgetMs) {
        overBudget(good, positions, from, results, deps.budgetMs);
        metrics.budgetExceeded.inc();
        break;
      }
      if (at - sliceStarted > SLICE_MS) {
        await yieldToEventLoop();
        sliceStarted = now();
      }
      const answers = reputation.lookupMany(
        from === 0 && to === good.length ? good : good.slice(from, to),
      );
      for (let j = 0; j < answers.length; j++) results[positions[from + j]] = answers[j];
    }
    return { results, items: good.length };
  }
}

const JSON_HEADERS = { "Content-Type": "application/json" } as const;

/** Counts the answers' verdicts by type, a run of equal ones at a time (most are unknown files). */
function countVerdicts(answers: readonly LookupResult[], verdicts: Counter): void {
  let type = "";
  let verdict = "";
  let run = 0;
  for (const answer of answers) {
    if (answer.verdict === undefined) continue; // an item with its own error
    if (answer.type === type && answer.verdict === verdict) {
      run++;
      continue;
    }
    if (run > 0) verdicts.inc(type, verdict, run);
    type = answer.type;
    verdict = answer.verdict;
    run = 1;
  }
  if (run > 0) verdicts.inc(type, verdict, run);
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Gives every item from `from` on its own error: the batch used its time. */
function overBudget(
  good: readonly LookupItem[],
  positions: readonly number[],
  from: number,
  results: unknown[],
  budgetMs: number,
): void {
  const error = {
    code: "batch_budget_exceeded",
    message: `Not looked up: the batch used its ${budgetMs} ms of look-up time; ` +
      "send the remaining items in another request",
  };
  for (let j = from; j < good.length; j++) {
    results[positions[j]] = { type: good[j].type, value: good[j].value, error };
  }
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
