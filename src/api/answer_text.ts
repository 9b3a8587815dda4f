/**
 * Look-up answers as JSON text, made as cheaply as each kind allows: most answers are unknown
 * files, whose JSON is fixed but for the hex value, and a listed object's answer is the same
 * shared result object (the look-up service's cache of recent hits) asked for again and again.
 */
import type { LookupResult } from "../reputation/mod.ts";

// The source of nearly every unknown answer, as JSON.
const NONE = JSON.stringify("none");

// A listed answer's JSON, kept on the result object itself: a hit evicted from the look-up cache
// takes its text with it. Not enumerable, so a copy made by spreading the result (to mark it
// stale, say) does not carry text that no longer matches it. A WeakMap beside the results cost
// about 1.5 µs more a listed answer asked once (measured 2026-12-03).
const TEXT = Symbol("answer JSON");

/** Serialises look-up results. */
export class AnswerText {
  /** The result's JSON, field for field what `JSON.stringify(result)` gives. */
  of(result: LookupResult): string {
    if (
      result.via === "none" && (result.type === "file" || result.type === "cert") &&
      result.stale === undefined && result.proxyTimeout === undefined
    ) {
      // A file or cert value is validated lower-case hex: nothing to escape.
      const source = result.source === "none" ? NONE : JSON.stringify(result.source);
      return `{"type":"${result.type}","value":"${result.value}","verdict":"unknown","ttl":${result.ttl},"source":${source},"via":"none"}`;
    }
    // Only the look-up service's answers are shared and kept; anything else (a proxy answer,
    // a stale copy) is a fresh object, asked for once.
    if ((result.via !== "mirror" && result.via !== "override") || result.stale !== undefined) {
      return JSON.stringify(result);
    }
    const kept = (result as { [TEXT]?: string })[TEXT];
    if (kept !== undefined) return kept;
    const text = JSON.stringify(result);
    Object.defineProperty(result, TEXT, { value: text });
    return text;
  }
}
