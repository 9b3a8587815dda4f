/**
 * Reads a batch body in the form clients send, `{"items":[{"type":"file","value":"..."}, ...]}`,
 * straight from its bytes: where each item's type and value lie, without making a string or an
 * object for either. A 1,000-item batch parsed as JSON makes some 3,000 strings and objects that
 * live across the batch's pauses, enough garbage to set the node's peak memory under batch load.
 *
 * Anything the scan is not sure to read exactly as `JSON.parse` would (an escape, a byte outside
 * printable ASCII, another key, a value that is not a string, broken JSON) makes it give up and
 * return null: the caller then parses the body as JSON, which answers or refuses it as before.
 */

/** Item types a batch names, as codes; 0 is any other string. */
export const TYPE_CODE = { other: 0, file: 1, cert: 2, domain: 3, ip: 4, url: 5 } as const;

/** The type names by code; the code 0 has none. */
export const TYPE_NAMES: readonly string[] = ["", "file", "cert", "domain", "ip", "url"];

/** Where a body's items lie: four numbers an item, offsets into the body. */
export interface ScannedBatch {
  /** How many items the body holds, all of them read, though only `spans` has room for are kept. */
  count: number;
  /**
   * For item i, at 4i: the type's code, then where its value starts and ends, then where its
   * type string starts (it ends at the first quote after it; only read for code 0).
   */
  spans: Uint32Array;
}

/** Room in `spans` for this many items. */
export function spansFor(items: number): Uint32Array {
  return new Uint32Array(4 * items);
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

// `"items"`, `"type"` and `"value"` as bytes, quotes included.
const ITEMS = bytesOf('"items"');
const TYPE = bytesOf('"type"');
const VALUE = bytesOf('"value"');
/**
 * Where the items of `body` lie, written into `spans` (from {@link spansFor}) as far as it has
 * room; null when the body is not in the plain form.
 */
export function scanBatch(body: Uint8Array, spans: Uint32Array): ScannedBatch | null {
  const room = spans.length >> 2;
  let count = 0;
  let at = space(body, 0);
  if (body[at] !== OPEN_BRACE) return null;
  at = space(body, at + 1);
  if (!matches(body, at, ITEMS)) return null;
  at = space(body, at + ITEMS.length);
  if (body[at] !== COLON) return null;
  at = space(body, at + 1);
  if (body[at] !== OPEN_BRACKET) return null;
  at = space(body, at + 1);
  if (body[at] !== CLOSE_BRACKET) {
    for (;;) {
      // An item past the room in `spans` is read, checked and counted, not kept.
      at = item(body, at, spans, count < room ? 4 * count : -1);
      if (at < 0) return null;
      count++;
      at = space(body, at);
      if (body[at] === CLOSE_BRACKET) break;
      if (body[at] !== COMMA) return null;
      at = space(body, at + 1);
    }
  }
  at = space(body, at + 1);
  if (body[at] !== CLOSE_BRACE) return null;
  if (space(body, at + 1) !== body.length) return null;
  return { count, spans };
}

/**
 * Reads `{"type":"...","value":"..."}` (either order, each key once) at `at` into
 * `spans[slot..slot+3]` (nowhere for a slot of -1); returns where it ends, or -1.
 */
function item(body: Uint8Array, at: number, spans: Uint32Array, slot: number): number {
  if (body[at] !== OPEN_BRACE) return -1;
  let seen = 0; // 1 for the type, 2 for the value
  at = space(body, at + 1);
  for (let field = 0; field < 2; field++) {
    let key: number;
    if (matches(body, at, TYPE)) {
      key = 1;
      at += TYPE.length;
    } else if (matches(body, at, VALUE)) {
      key = 2;
      at += VALUE.length;
    } else return -1;
    if (seen & key) return -1;
    seen |= key;
    at = space(body, at);
    if (body[at] !== COLON) return -1;
    at = space(body, at + 1);
    if (body[at] !== QUOTE) return -1;
    const start = at + 1;
    const end = stringEnd(body, start);
    if (end < 0) return -1;
    if (slot >= 0 && key === 1) {
      spans[slot] = typeCode(body, start, end);
      spans[slot + 3] = start;
    } else if (slot >= 0) {
      spans[slot + 1] = start;
      spans[slot + 2] = end;
    }
    at = space(body, end + 1);
    if (field === 0) {
      if (body[at] !== COMMA) return -1;
      at = space(body, at + 1);
    }
  }
  if (body[at] !== CLOSE_BRACE) return -1;
  return at + 1;
}

/** Where the string starting at `start` ends (its closing quote), or -1 for one the scan does not take. */
function stringEnd(body: Uint8Array, start: number): number {
  for (let at = start; at < body.length; at++) {
    const c = body[at];
    if (c === QUOTE) return at;
    // A control character (which JSON refuses), an escape or a byte of a multi-byte character.
    if (c < 32 || c === BACKSLASH || c > 126) return -1;
  }
  return -1;
}

function typeCode(body: Uint8Array, start: number, end: number): number {
  const length = end - start;
  for (let code = 1; code < TYPE_NAMES.length; code++) {
    const name = TYPE_NAMES[code];
    if (name.length !== length) continue;
    let i = 0;
    while (i < length && body[start + i] === name.charCodeAt(i)) i++;
    if (i === length) return code;
  }
  return TYPE_CODE.other;
}

/** The first offset from `at` that is not JSON white space. */
function space(body: Uint8Array, at: number): number {
  for (; at < body.length; at++) {
    const c = body[at];
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
  }
  return at;
}

function matches(body: Uint8Array, at: number, text: Uint8Array): boolean {
  if (at + text.length > body.length) return false;
  for (let i = 0; i < text.length; i++) if (body[at + i] !== text[i]) return false;
  return true;
}

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
