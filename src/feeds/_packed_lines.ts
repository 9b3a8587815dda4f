/**
 * Parsed lines packed for the trip from a parse worker to the import's thread: keys in one byte
 * array, numbers in typed arrays, each distinct set of attribute values once. Posted as objects,
 * every row and its key (a typed array of its own) would be serialised on one thread and rebuilt
 * on the other; these arrays are transferred without a copy, and the rows rebuilt as views.
 */
import type { EntryRow, Origin } from "../store/mod.ts";
import type { ParsedSink } from "./_line_parser.ts";

/** The attribute values rows share: verdict, threat, categories, ttl, source. */
type Attributes = [number, string | null, string | null, number | null, string];

/** One chunk's parsed lines, as posted. */
export interface PackedLines {
  /** Per record: its line, and how many rows it has (at most a few: a file's hashes). */
  recordLines: Float64Array;
  recordRows: Uint8Array;
  /** Per row: where its key ends in `keys`, its attributes' index, its dates (NaN for none). */
  keyEnds: Uint32Array;
  keys: Uint8Array;
  attributes: Uint32Array;
  firstSeen: Float64Array;
  lastSeen: Float64Array;
  attributeSets: Attributes[];
  /** Failed lines, in line order. */
  errors: { line: number; message: string }[];
}

/** The buffers of `packed` to transfer with it. */
export function transferables(packed: PackedLines): ArrayBuffer[] {
  return [
    packed.recordLines,
    packed.recordRows,
    packed.keyEnds,
    packed.keys,
    packed.attributes,
    packed.firstSeen,
    packed.lastSeen,
  ].map((array) => array.buffer as ArrayBuffer);
}

/** A sink that packs what it is given; {@link take} hands over the lines so far. */
export class LinePacker implements ParsedSink {
  #records = 0;
  #rows = 0;
  #keyBytes = 0;
  #recordLines = new Float64Array(1024);
  #recordRows = new Uint8Array(1024);
  #keyEnds = new Uint32Array(1024);
  #keys = new Uint8Array(32_768);
  #attributes = new Uint32Array(1024);
  #firstSeen = new Float64Array(1024);
  #lastSeen = new Float64Array(1024);
  #sets: Attributes[] = [];
  readonly #setIndex = new Map<string, number>();
  #errors: { line: number; message: string }[] = [];

  rows(rows: readonly EntryRow[], line: number): void {
    if (this.#records === this.#recordLines.length) {
      this.#recordLines = grown(this.#recordLines);
      this.#recordRows = grown(this.#recordRows);
    }
    this.#recordLines[this.#records] = line;
    // A record has one row per key it names: at most four (a file's value, md5, sha1, sha256).
    this.#recordRows[this.#records++] = rows.length;
    for (const row of rows) this.#row(row);
  }

  fail(line: number, message: string): void {
    this.#errors.push({ line, message });
  }

  /** Whether anything was added since the last {@link take}. */
  get empty(): boolean {
    return this.#records === 0 && this.#errors.length === 0;
  }

  /** The lines added since the last call, in arrays of their own; starts afresh. */
  take(): PackedLines {
    const rows = this.#rows;
    const packed: PackedLines = {
      recordLines: this.#recordLines.slice(0, this.#records),
      recordRows: this.#recordRows.slice(0, this.#records),
      keyEnds: this.#keyEnds.slice(0, rows),
      keys: this.#keys.slice(0, this.#keyBytes),
      attributes: this.#attributes.slice(0, rows),
      firstSeen: this.#firstSeen.slice(0, rows),
      lastSeen: this.#lastSeen.slice(0, rows),
      attributeSets: this.#sets,
      errors: this.#errors,
    };
    this.#records = 0;
    this.#rows = 0;
    this.#keyBytes = 0;
    this.#sets = [];
    this.#setIndex.clear();
    this.#errors = [];
    return packed;
  }

  #row(row: EntryRow): void {
    const i = this.#rows++;
    if (i === this.#keyEnds.length) {
      this.#keyEnds = grown(this.#keyEnds);
      this.#attributes = grown(this.#attributes);
      this.#firstSeen = grown(this.#firstSeen);
      this.#lastSeen = grown(this.#lastSeen);
    }
    const key = row.key;
    while (this.#keyBytes + key.length > this.#keys.length) this.#keys = grown(this.#keys);
    this.#keys.set(key, this.#keyBytes);
    this.#keyBytes += key.length;
    this.#keyEnds[i] = this.#keyBytes;
    this.#attributes[i] = this.#setOf(row);
    this.#firstSeen[i] = row.first_seen ?? NaN;
    this.#lastSeen[i] = row.last_seen ?? NaN;
  }

  #setOf(row: EntryRow): number {
    const { verdict, threat, categories, ttl, source } = row;
    // Lengths first, so no two sets of values give one string.
    const name = `${verdict}|${ttl ?? "-"}|${threat === null ? "-" : threat.length}|` +
      `${categories === null ? "-" : categories.length}|${threat ?? ""}${
        categories ?? ""
      }${source}`;
    let index = this.#setIndex.get(name);
    if (index === undefined) {
      index = this.#sets.push([verdict, threat, categories, ttl, source]) - 1;
      this.#setIndex.set(name, index);
    }
    return index;
  }
}

/** Gives `sink` the lines `packed` holds, rows before errors (the two do not depend on each other). */
export function unpackLines(packed: PackedLines, origin: Origin, sink: ParsedSink): void {
  const { recordLines, recordRows, keyEnds, keys, attributes, firstSeen, lastSeen } = packed;
  const sets = packed.attributeSets;
  const rows: EntryRow[] = [];
  let row = 0;
  let keyStart = 0;
  for (let r = 0; r < recordLines.length; r++) {
    rows.length = recordRows[r];
    for (let j = 0; j < rows.length; j++, row++) {
      const [verdict, threat, categories, ttl, source] = sets[attributes[row]];
      const first = firstSeen[row];
      const last = lastSeen[row];
      rows[j] = {
        key: keys.subarray(keyStart, keyEnds[row]),
        origin,
        verdict,
        threat,
        categories,
        first_seen: Number.isNaN(first) ? null : first,
        last_seen: Number.isNaN(last) ? null : last,
        ttl,
        source,
      };
      keyStart = keyEnds[row];
    }
    sink.rows(rows, recordLines[r]);
  }
  for (const error of packed.errors) sink.fail(error.line, error.message);
}

function grown<T extends Float64Array | Uint32Array | Uint8Array>(array: T): T {
  const bigger = new (array.constructor as new (length: number) => T)(array.length * 2);
  bigger.set(array);
  return bigger;
}
