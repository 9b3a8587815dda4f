/**
 * The rows of one import on their way to the store: buffered, sorted and
 * written, except rows whose key a filter has seen, which are held back; at
 * the end each held row is compared with the row that stands for its key, and
 * counted as a repeat or reported as a conflict.
 */
import { quote } from "../core/mod.ts";
import type { EntryRow, HeldRow, ImportWriter, StoredValues } from "../store/mod.ts";
import { decodeKey, keyPrefix, VERDICTS } from "../reputation/mod.ts";

/** What {@link ImportRows} needs besides the writer. */
export interface ImportRowsOptions {
  /** Keep the last of conflicting lines instead of failing the later ones. */
  lastWins: boolean;
  /** Names the input in messages ("FILE" gives "FILE:12"); unnamed gives "line 12". */
  name?: string;
  /** Records a bad line. */
  fail(line: number, message: string): void;
}

// Rows are buffered and staged in batches sorted by key prefix: SQLite's final sort of the
// staged rows into the entry table is faster over sorted runs (at 1M records, 1.6-1.7 s over
// 8,192-row runs, 1.1-1.2 s over 65,536-row ones, 2.3 s in random order; 2026-12-03). Small
// batches all the same, so that one batch's writes (a few tens of milliseconds) do not leave a
// parse worker idle (feeds/parse_worker.ts): 65,536-row batches made the whole import a fifth
// slower with the worker, and no faster without it.
export const BATCH_ROWS = 8_192;
// Twice the largest batch (a record adds up to three rows past the mark), so a
// position fits below the prefix in one float64.
const POSITIONS = 16_384;
// Bits of the filter of keys written so far: 16 MiB, whatever the file's size.
// Two bits a key give about 0.05% false candidates at 1.3M keys, 2% at 10M.
const FILTER_BITS = 2 ** 27;

/** Buffers rows, writes them in key order and sorts out repeated keys. */
export class ImportRows {
  /** Lines that repeat an earlier line's key with the same verdict, threat and categories. */
  duplicates = 0;
  /** Lines that give an earlier line's key another verdict, threat or categories. */
  conflicts = 0;
  readonly #writer: ImportWriter;
  readonly #options: ImportRowsOptions;
  readonly #rows: EntryRow[] = [];
  // Per buffered row: its line, and its key's prefix and position packed as flush sorts them.
  readonly #lines = new Float64Array(POSITIONS);
  readonly #order = new Float64Array(POSITIONS);
  readonly #filter = new KeyFilter();

  constructor(writer: ImportWriter, options: ImportRowsOptions) {
    this.#writer = writer;
    this.#options = options;
  }

  /** Adds the rows of one line, writing the buffer when it is full. */
  add(rows: readonly EntryRow[], line: number): void {
    const buffered = this.#rows;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      // Asked here, while the key is in the cache, and in line order, so a key's
      // first row is written and its later ones (in this batch or a later one)
      // held back: they cannot overwrite the row they are to be compared with.
      if (this.#filter.add(row.key)) {
        this.#writer.hold(row, line);
        continue;
      }
      const i = buffered.length;
      // (prefix, position) packed into one float64 is exact below 2^53, and
      // sorting it keeps rows of one prefix in line order.
      this.#order[i] = keyPrefix(row.key) * POSITIONS + i;
      this.#lines[i] = line;
      buffered.push(row);
    }
    if (buffered.length >= BATCH_ROWS) this.flush();
  }

  /** Writes every buffered row, in key prefix order. */
  flush(): void {
    const rows = this.#rows;
    const count = rows.length;
    const order = this.#order.subarray(0, count).sort();
    const sorted: EntryRow[] = new Array(count);
    const lines: number[] = new Array(count);
    for (let n = 0; n < count; n++) {
      const i = order[n] % POSITIONS;
      sorted[n] = rows[i];
      lines[n] = this.#lines[i];
    }
    rows.length = 0;
    this.#writer.write(sorted, lines);
  }

  /**
   * Writes what is buffered, then goes through the held rows key by key. The
   * key's first row stands; each later one with the same values is a
   * duplicate and stands in its place (it may carry other dates), one with
   * other values a conflict, reported unless the last one wins. A line counts
   * once, as a conflict if any of its keys conflicted. The row standing at
   * the end is the one stored.
   */
  finish(): void {
    this.flush();
    const writer = this.#writer;
    writer.finishWrites();
    const { lastWins, name } = this.#options;
    let standing: Standing | undefined;
    const settle = (): void => {
      if (standing?.held !== undefined) writer.writeOne(standing.held);
    };
    writer.forEachHeldRow((row) => {
      if (standing === undefined || !sameBytes(standing.key, row.key)) {
        settle();
        // A key no row wrote was held only because the filter mistook it.
        standing = row.firstLine === null
          ? { key: row.key, line: row.line, values: row, held: row }
          : { key: row.key, line: row.firstLine, values: writer.stored(row.key) };
        if (row.firstLine === null) return;
      }
      const difference = describeDifference(standing.values, row);
      if (difference === undefined || lastWins) {
        writer.addOutcome({ line: row.line, conflict: difference !== undefined, message: null });
        standing = { key: row.key, line: row.line, values: row, held: row };
        return;
      }
      // Without --last-wins later lines are compared with the first, which stands.
      const { type, value } = decodeKey(row.key);
      const where = name === undefined ? `line ${standing.line}` : `${name}:${standing.line}`;
      writer.addOutcome({
        line: row.line,
        conflict: true,
        message: `Conflicts with ${where} over ${type} ${quote(value)}: ${difference}`,
      });
    });
    settle();
    writer.forEachOutcome((outcome) => {
      if (!outcome.conflict) {
        this.duplicates++;
        return;
      }
      this.conflicts++;
      if (outcome.message !== null) this.#options.fail(outcome.line, outcome.message);
    });
  }
}

/** The row that stands for a key: its line, its values, and the row itself if it was held. */
interface Standing {
  key: Uint8Array;
  line: number;
  values: StoredValues;
  held?: HeldRow;
}

/**
 * A Bloom filter of keys with two bits a key: `add` answers false for a key
 * never added, and true for one added before (or, rarely, for another).
 */
class KeyFilter {
  readonly #bits = new Uint8Array(FILTER_BITS / 8);

  add(key: Uint8Array): boolean {
    // Bytes 1-4 of a key are a well-spread 32-bit value (a digest or a hash);
    // the second bit comes from mixing them with the key's length and last byte.
    const prefix = keyPrefix(key);
    const first = prefix & (FILTER_BITS - 1);
    const mixed = Math.imul(prefix ^ (key.length << 24) ^ key[key.length - 1], 0x9e3779b1);
    const second = (mixed ^ (mixed >>> 15)) & (FILTER_BITS - 1);
    const seen = this.#test(first) && this.#test(second);
    this.#bits[first >>> 3] |= 1 << (first & 7);
    this.#bits[second >>> 3] |= 1 << (second & 7);
    return seen;
  }

  #test(bit: number): boolean {
    return (this.#bits[bit >>> 3] & (1 << (bit & 7))) !== 0;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * How a row differs from the standing row of its key in verdict, threat or
 * categories (compared as sets), or `undefined` if it does not.
 */
function describeDifference(earlier: StoredValues, row: StoredValues): string | undefined {
  const differences: string[] = [];
  if (earlier.verdict !== row.verdict) {
    differences.push(
      `verdict ${quote(VERDICTS[earlier.verdict])} there, ${quote(VERDICTS[row.verdict])} here`,
    );
  }
  if (earlier.threat !== row.threat) {
    differences.push(`threat ${shown(earlier.threat)} there, ${shown(row.threat)} here`);
  }
  const before = categorySet(earlier.categories);
  const after = categorySet(row.categories);
  if (before !== after) differences.push(`categories ${shown(before)} there, ${shown(after)} here`);
  return differences.length > 0 ? differences.join("; ") : undefined;
}

function categorySet(json: string | null): string | null {
  return json === null ? null : [...new Set(JSON.parse(json) as string[])].sort().join(",");
}

function shown(value: string | null): string {
  return value === null ? "none" : quote(value);
}
