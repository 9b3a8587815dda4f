/**
 * Reading the parent's `POST /v1/lookup` answer. The parent is another machine: its answer is
 * checked field by field, and anything that does not fit is a failed request, never a record.
 */
import { z } from "zod";
import { OBJECT_TYPES, VERDICTS } from "../reputation/mod.ts";
import type { LookupResult } from "../reputation/mod.ts";

/** One object the proxy asks the parent about. */
export interface ParentLookupItem {
  type: string;
  value: string;
}

/**
 * The parent's record for one object, as it gave it (without its own `via`, `override`,
 * `stale`, `proxyTimeout`: those describe the parent, not this node), or null when the
 * parent answered that item with an error of its own.
 */
export type ParentAnswer = Omit<LookupResult, "via" | "override" | "stale" | "proxyTimeout">;

const text = (max: number) => z.string().max(max);

const resultSchema = z.object({
  type: z.enum(OBJECT_TYPES),
  value: text(16_384),
  verdict: z.enum(VERDICTS),
  threat: text(512).optional(),
  categories: z.array(text(256)).max(64).optional(),
  ttl: z.number().int().min(0).max(31_536_000).optional(),
  source: text(256).optional(),
  firstSeen: text(64).optional(),
  lastSeen: text(64).optional(),
  match: z.object({ type: z.enum(OBJECT_TYPES), value: text(16_384) }).optional(),
});

const itemErrorSchema = z.object({ error: z.object({ code: z.string() }) });

const answerSchema = z.object({ results: z.array(z.unknown()) });

/**
 * The answers for `items`, in their order; throws a message naming what is wrong when the
 * text is not such an answer (not JSON, another count of results, an item of another shape).
 */
export function readLookupAnswer(
  text: string,
  items: readonly ParentLookupItem[],
): (ParentAnswer | null)[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error("the answer is not JSON");
  }
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) throw new Error('the answer is not {"results":[...]}');
  const results = parsed.data.results;
  if (results.length !== items.length) {
    throw new Error(`the answer has ${results.length} results for ${items.length} items`);
  }
  return results.map((raw, i) => {
    if (itemErrorSchema.safeParse(raw).success) return null;
    const result = resultSchema.safeParse(raw);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new Error(`result ${i}: ${issue.path.join(".") || "the item"}: ${issue.message}`);
    }
    if (result.data.type !== items[i].type) {
      throw new Error(`result ${i} is of type ${result.data.type}, not ${items[i].type}`);
    }
    const r = result.data;
    // A hash is its own canonical form: another one in its place is somebody else's record.
    // URLs, domains and networks are kept under the form asked, whatever form the parent shows.
    if ((r.type === "file" || r.type === "cert") && r.value.toLowerCase() !== items[i].value) {
      throw new Error(`result ${i} is for ${r.value}, not ${items[i].value}`);
    }
    // Only the fields that describe the record, in the documented order.
    const answer: ParentAnswer = { type: r.type, value: items[i].value, verdict: r.verdict };
    if (r.threat !== undefined) answer.threat = r.threat;
    if (r.categories !== undefined) answer.categories = r.categories;
    if (r.ttl !== undefined) answer.ttl = r.ttl;
    if (r.source !== undefined) answer.source = r.source;
    if (r.firstSeen !== undefined) answer.firstSeen = r.firstSeen;
    if (r.lastSeen !== undefined) answer.lastSeen = r.lastSeen;
    if (r.match !== undefined) answer.match = r.match;
    return answer;
  });
}
