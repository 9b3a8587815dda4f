/** Reading text streams line by line, with line numbers and a length cap. */
import { InvalidInputError } from "./errors.ts";

/** One line of input and its 1-based number; `error` is set (and `text` empty) if it is not UTF-8. */
export interface NumberedLine {
  number: number;
  text: string;
  error?: string;
}

const NEWLINE = 0x0a;
const TOO_LONG = "too long";

/** Lines before an over-long one are still delivered; the over-long one ends the read. */
function checked(line: NumberedLine, max: number): NumberedLine {
  if (line.error === TOO_LONG) {
    throw new InvalidInputError("line_too_long", `Line ${line.number}: longer than ${max} bytes`);
  }
  return line;
}

/**
 * Splits a byte stream into lines (LF or CRLF) and decodes them as strict UTF-8;
 * a line that is not UTF-8 comes with `error` set, so the caller can report it
 * by number and read on. A line longer than `maxLineBytes` stops the read with
 * an error naming the line, so a file without newlines cannot exhaust memory.
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  options: { maxLineBytes?: number } = {},
): AsyncGenerator<NumberedLine> {
  const max = options.maxLineBytes ?? 1_048_576;
  // BOMs are kept by the decoder and stripped here, from the first line only.
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let carry: Uint8Array = new Uint8Array(0);
  let number = 0;
  let first = true;
  for await (const chunk of stream) {
    let data = chunk;
    if (carry.length > 0) {
      data = new Uint8Array(carry.length + chunk.length);
      data.set(carry);
      data.set(chunk, carry.length);
    }
    const last = data.lastIndexOf(NEWLINE);
    if (last === -1) {
      carry = data;
    } else {
      const lines = splitLines(decoder, data.subarray(0, last), number + 1, max, first);
      first = false;
      for (const line of lines) yield checked(line, max);
      number += lines.length;
      carry = data.slice(last + 1);
    }
    if (carry.length > max) {
      throw new InvalidInputError("line_too_long", `Line ${number + 1}: longer than ${max} bytes`);
    }
  }
  if (carry.length > 0) {
    for (const line of splitLines(decoder, carry, number + 1, max, first)) yield checked(line, max);
  }
}

/**
 * Decodes complete lines. The whole block is decoded at once when it is valid
 * UTF-8 (the usual case, and several times faster); otherwise line by line, so
 * the error lands on the line that has it.
 */
function splitLines(
  decoder: TextDecoder,
  block: Uint8Array,
  firstNumber: number,
  max: number,
  atStart: boolean,
): NumberedLine[] {
  let texts: (string | null)[];
  try {
    texts = decoder.decode(block).split("\n");
  } catch {
    texts = [];
    let start = 0;
    while (start <= block.length) {
      let end = block.indexOf(NEWLINE, start);
      if (end === -1) end = block.length;
      try {
        texts.push(decoder.decode(block.subarray(start, end)));
      } catch {
        texts.push(null);
      }
      start = end + 1;
    }
  }
  if (atStart && texts[0]?.charCodeAt(0) === 0xfeff) texts[0] = texts[0].slice(1);
  return texts.map((text, i) => {
    const number = firstNumber + i;
    if (text === null) return { number, text: "", error: "not valid UTF-8" };
    if (text.length > max && new TextEncoder().encode(text).length > max) {
      return { number, text: "", error: TOO_LONG };
    }
    return { number, text: text.endsWith("\r") ? text.slice(0, -1) : text };
  });
}
