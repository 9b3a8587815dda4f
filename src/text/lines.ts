/** Reading text streams line by line, with line numbers and a length cap. */
import { InvalidInputError } from "../errors.ts";

/** One line of input and its 1-based number; `error` is set (and `text` empty) if it is not UTF-8. */
export interface NumberedLine {
  number: number;
  text: string;
  error?: string;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines (LF or CRLF) and decodes each as strict UTF-8;
 * a line that is not UTF-8 comes with `error` set, so the caller can report it
 * by number and read on. A line longer than
 * `maxLineBytes` stops the read with an error naming the line, so a file without
 * newlines cannot exhaust memory.
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  options: { maxLineBytes?: number } = {},
): AsyncGenerator<NumberedLine> {
  const max = options.maxLineBytes ?? 1_048_576;
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let carry: Uint8Array = new Uint8Array(0);
  let number = 0;
  const decode = (bytes: Uint8Array): NumberedLine => {
    number++;
    if (bytes.length > max) {
      throw new InvalidInputError("line_too_long", `Line ${number}: longer than ${max} bytes`);
    }
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR
      ? bytes.length - 1
      : bytes.length;
    try {
      return { number, text: decoder.decode(bytes.subarray(0, end)) };
    } catch {
      return { number, text: "", error: "not valid UTF-8" };
    }
  };
  for await (const chunk of stream) {
    let data = chunk;
    if (carry.length > 0) {
      data = new Uint8Array(carry.length + chunk.length);
      data.set(carry);
      data.set(chunk, carry.length);
    }
    let start = 0;
    let nl = data.indexOf(NEWLINE, start);
    while (nl !== -1) {
      yield decode(data.subarray(start, nl));
      start = nl + 1;
      nl = data.indexOf(NEWLINE, start);
    }
    carry = data.slice(start);
    if (carry.length > max) {
      number++;
      throw new InvalidInputError("line_too_long", `Line ${number}: longer than ${max} bytes`);
    }
  }
  if (carry.length > 0) yield decode(carry);
}
