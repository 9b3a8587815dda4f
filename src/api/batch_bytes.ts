/**
 * A batch's answer written straight into bytes from a scanned body (batch_scan.ts). Most items
 * of a batch are file hashes no key in the index starts like: their answer is fixed but for
 * the hash, so it is copied from the request's bytes without a string or an object made for it.
 * Every other item is looked up as the JSON path looks it up, and its answer's text copied in.
 */
import type { LookupResult, Reputation } from "../reputation/mod.ts";
import type { AnswerText } from "./answer_text.ts";
import { type ScannedBatch, spansFor, TYPE_CODE, TYPE_NAMES } from "./batch_scan.ts";

/** Collects the answers' verdicts, a run of equal ones at a time (most are unknown files). */
export class VerdictRuns {
  #type = "";
  #verdict = "";
  #run = 0;
  readonly #inc: (type: string, verdict: string, by: number) => void;

  /** Counts each run with `inc`. */
  constructor(inc: (type: string, verdict: string, by: number) => void) {
    this.#inc = inc;
  }

  add(type: string, verdict: string): void {
    if (type === this.#type && verdict === this.#verdict) {
      this.#run++;
      return;
    }
    this.flush();
    this.#type = type;
    this.#verdict = verdict;
    this.#run = 1;
  }

  /** Counts the run in hand. */
  flush(): void {
    if (this.#run > 0) this.#inc(this.#type, this.#verdict, this.#run);
    this.#run = 0;
  }
}

const QUOTE = 34;
const COMMA = 44;
const encoder = new TextEncoder();
const ascii = new TextDecoder();
const OPEN = encoder.encode('{"results":[');
const CLOSE = encoder.encode("]}");
const FILE_HEAD = encoder.encode('{"type":"file","value":"');
const CERT_HEAD = encoder.encode('{"type":"cert","value":"');

// One table read a byte: its hex value, with 16 set for an upper-case digit and -1 for anything else.
const HEX_FLAGS = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX_FLAGS[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_FLAGS[97 + i] = 10 + i;
  HEX_FLAGS[65 + i] = 16 | (10 + i);
}

// An answer buffer grown past this is not kept for the next batch: a rare huge answer (long
// URLs, say) should not hold its memory for good. 1,000 unknown SHA-256s take about 150 KB.
const KEEP_BYTES = 1 << 20;

/**
 * The memory a batch answered from its bytes works in: where its items lie and its answer.
 * Kept for the next batch rather than made for each: a batch load would make and drop some
 * 200 KB hundreds of times a second, memory V8 frees only when it next collects the buffers.
 */
export class BatchBuffers {
  readonly spans: Uint32Array;
  out: Uint8Array<ArrayBuffer> = new Uint8Array(64 * 1024);

  constructor(maxItems: number) {
    this.spans = spansFor(maxItems);
  }

  /** Whether these buffers are worth keeping for another batch. */
  get keepable(): boolean {
    return this.out.length <= KEEP_BYTES;
  }
}

/**
 * Writes the answer to a scanned batch, item by item, into the buffers' answer buffer (grown
 * when it is short).
 */
export class BatchBytes {
  readonly #body: Uint8Array;
  readonly #spans: Uint32Array;
  readonly #reputation: Reputation;
  readonly #answers: AnswerText;
  readonly #verdicts: VerdictRuns;
  readonly #buffers: BatchBuffers;
  // What follows an unknown's value: it holds the node's unknown TTL.
  readonly #unknownTail: Uint8Array;
  #length = 0;

  constructor(
    body: Uint8Array,
    scanned: ScannedBatch,
    reputation: Reputation,
    answers: AnswerText,
    verdicts: VerdictRuns,
    buffers: BatchBuffers,
  ) {
    this.#body = body;
    this.#spans = scanned.spans;
    this.#reputation = reputation;
    this.#answers = answers;
    this.#verdicts = verdicts;
    this.#unknownTail = encoder.encode(
      `","verdict":"unknown","ttl":${reputation.unknownTtl},"source":"none","via":"none"}`,
    );
    this.#buffers = buffers;
    this.#write(OPEN);
  }

  /** Answers items `from` to `to` (exclusive). */
  answer(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      if (i > 0) this.#byte(COMMA);
      const code = this.#spans[4 * i];
      if ((code === TYPE_CODE.file || code === TYPE_CODE.cert) && this.#unknownDigest(i, code)) {
        this.#verdicts.add(TYPE_NAMES[code], "unknown");
        continue;
      }
      const result = this.#reputation.lookupItem(this.#type(i), this.#value(i)) as LookupResult;
      if (result.verdict === undefined) {
        this.#text(JSON.stringify(result)); // an item with its own error
        continue;
      }
      this.#verdicts.add(result.type, result.verdict);
      this.#text(this.#answers.of(result));
    }
  }

  /** Gives items `from` on an error of their own, as their type and value were sent. */
  refuse(from: number, count: number, error: { code: string; message: string }): void {
    for (let i = from; i < count; i++) {
      if (i > 0) this.#byte(COMMA);
      this.#text(JSON.stringify({ type: this.#type(i), value: this.#value(i), error }));
    }
  }

  /**
   * The answer, closed: `{"results":[...]}`. A view of the kept buffer: copy it (a `Response`
   * made from it does) before the buffers serve another batch.
   */
  finish(): Uint8Array<ArrayBuffer> {
    this.#write(CLOSE);
    return this.#buffers.out.subarray(0, this.#length);
  }

  /**
   * Writes item i's unknown answer if it is a well-formed digest the index rules out, and says
   * whether it did; anything else (a hit, a bad value, colons in a thumbprint) goes the long way.
   */
  #unknownDigest(i: number, code: number): boolean {
    const body = this.#body;
    const start = this.#spans[4 * i + 1];
    const length = this.#spans[4 * i + 2] - start;
    if (length !== 64 && length !== 40 && (length !== 32 || code === TYPE_CODE.cert)) return false;
    let flags = 0;
    let prefix = 0;
    for (let j = 0; j < 8; j++) {
      const v = HEX_FLAGS[body[start + j]];
      flags |= v;
      prefix = (prefix << 4) | (v & 15);
    }
    for (let j = 8; j < length; j++) flags |= HEX_FLAGS[body[start + j]];
    if (flags < 0 || !this.#reputation.surelyUnknown(prefix >>> 0)) return false;
    this.#write(code === TYPE_CODE.file ? FILE_HEAD : CERT_HEAD);
    this.#reserve(length);
    const out = this.#buffers.out;
    let at = this.#length;
    // Lower case: a hex digit's upper-case letter differs by one bit, which digits already have.
    for (let j = 0; j < length; j++) out[at++] = body[start + j] | 32;
    this.#length = at;
    this.#write(this.#unknownTail);
    return true;
  }

  #type(i: number): string {
    const code = this.#spans[4 * i];
    if (code !== TYPE_CODE.other) return TYPE_NAMES[code];
    const start = this.#spans[4 * i + 3];
    return ascii.decode(this.#body.subarray(start, this.#body.indexOf(QUOTE, start)));
  }

  #value(i: number): string {
    return ascii.decode(this.#body.subarray(this.#spans[4 * i + 1], this.#spans[4 * i + 2]));
  }

  #text(text: string): void {
    // UTF-8 takes at most three bytes for each UTF-16 unit.
    this.#reserve(text.length * 3);
    this.#length += encoder.encodeInto(text, this.#buffers.out.subarray(this.#length)).written;
  }

  #write(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buffers.out.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  #byte(b: number): void {
    this.#reserve(1);
    this.#buffers.out[this.#length++] = b;
  }

  #reserve(n: number): void {
    const out = this.#buffers.out;
    if (this.#length + n <= out.length) return;
    const grown = new Uint8Array(Math.max(out.length * 1.5, this.#length + n) | 0);
    grown.set(out.subarray(0, this.#length));
    this.#buffers.out = grown;
  }
}
