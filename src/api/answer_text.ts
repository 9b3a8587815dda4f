/**
 * Look-up answers as JSON text, made as cheaply as each kind allows: most answers are unknown
 * files, whose JSON is fixed but for the hex value, and a listed object's answer is the same
 * shared result object (the look-up service's cache of recent hits) asked for again and again.
 */
import type { LookupResult } from "../reputation/mod.ts";

// The source of nearly every unknown answer, as JSON.
const NONE = JSON.stringify("none");

/** Serialises look-up results; one per app, so its memory goes with the app. */
export class AnswerText {
  // Keyed by the result object itself: a hit evicted from the look-up cache takes its text
  // with it, so this holds no more than that cache does and needs no bound of its own.
  readonly #texts = new WeakMap<LookupResult, string>();

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
    // a stale copy) is a fresh object that would only fill the map.
    if ((result.via !== "mirror" && result.via !== "override") || result.stale !== undefined) {
      return JSON.stringify(result);
    }
    let text = this.#texts.get(result);
    if (text === undefined) {
      text = JSON.stringify(result);
      this.#texts.set(result, text);
    }
    return text;
  }
}
