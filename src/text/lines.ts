/** Reading text streams line by line, with line numbers and a length cap. */
import { InvalidInputError } from "../errors.ts";

/** One line of input and its 1-based number. */
export interface NumberedLine {
  number: number;
  text: string;
}

/**
 * Splits a byte stream into lines (LF or CRLF), decoding UTF-8 strictly. A line
 * longer than `maxLineBytes` stops the read with an error naming the line, so a
 * file without newlines cannot exhaust memory.
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  options: { maxLineChars?: number } = {},
): AsyncGenerator<NumberedLine> {
  const max = options.maxLineChars ?? 1_048_576;
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let carry = "";
  let number = 0;
  const reader = stream.getReader();
  try {
    while (true) {
      const { value, done } = await reader.read();
      let text: string;
      try {
        text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      } catch {
        throw new InvalidInputError(
          "invalid_encoding",
          `Line ${number + 1}: not valid UTF-8`,
        );
      }
      let chunk = carry + text;
      let start = 0;
      let nl = chunk.indexOf("\n", start);
      while (nl !== -1) {
        number++;
        const end = nl > start && chunk.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        yield { number, text: chunk.slice(start, end) };
        start = nl + 1;
        nl = chunk.indexOf("\n", start);
      }
      chunk = chunk.slice(start);
      if (chunk.length > max) {
        throw new InvalidInputError(
          "line_too_long",
          `Line ${number + 1}: longer than ${max} characters`,
        );
      }
      carry = chunk;
      if (done) break;
    }
    if (carry.length > 0) {
      number++;
      yield { number, text: carry.endsWith("\r") ? carry.slice(0, -1) : carry };
    }
  } finally {
    reader.releaseLock();
  }
}
