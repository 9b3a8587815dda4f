import assert from "node:assert/strict";
import { InvalidInputError } from "../../src/core/errors.ts";
import { type NumberedLine, readLines } from "../../src/core/lines.ts";

const encoder = new TextEncoder();

function streamOf(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(chunks.map((c) => typeof c === "string" ? encoder.encode(c) : c));
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  options?: { maxLineBytes?: number },
): Promise<NumberedLine[]> {
  const out: NumberedLine[] = [];
  for await (const line of readLines(stream, options)) out.push(line);
  return out;
}

/** Reads the stream, expecting an InvalidInputError; returns it and the lines read before it. */
async function failure(
  stream: ReadableStream<Uint8Array>,
  options?: { maxLineBytes?: number },
): Promise<{ error: InvalidInputError; lines: NumberedLine[] }> {
  const lines: NumberedLine[] = [];
  try {
    for await (const line of readLines(stream, options)) lines.push(line);
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${error}`);
    return { error, lines };
  }
  assert.fail("expected an error");
}

Deno.test("readLines splits LF-terminated lines and numbers them from 1", async () => {
  assert.deepEqual(await collect(streamOf("one\ntwo\nthree\n")), [
    { number: 1, text: "one" },
    { number: 2, text: "two" },
    { number: 3, text: "three" },
  ]);
});

Deno.test("readLines strips the CR of CRLF line endings", async () => {
  assert.deepEqual(await collect(streamOf("one\r\ntwo\r\n")), [
    { number: 1, text: "one" },
    { number: 2, text: "two" },
  ]);
});

Deno.test("readLines handles a CRLF split across two chunks", async () => {
  assert.deepEqual(await collect(streamOf("one\r", "\ntwo\r\n")), [
    { number: 1, text: "one" },
    { number: 2, text: "two" },
  ]);
});

Deno.test("readLines yields a last line that has no newline", async () => {
  assert.deepEqual(await collect(streamOf("one\ntwo")), [
    { number: 1, text: "one" },
    { number: 2, text: "two" },
  ]);
  assert.deepEqual(await collect(streamOf("one\r\ntwo\r")), [
    { number: 1, text: "one" },
    { number: 2, text: "two" },
  ]);
});

Deno.test("readLines counts blank lines", async () => {
  assert.deepEqual(await collect(streamOf("a\n\n\nb\n")), [
    { number: 1, text: "a" },
    { number: 2, text: "" },
    { number: 3, text: "" },
    { number: 4, text: "b" },
  ]);
});

Deno.test("readLines joins a line spread over many chunks", async () => {
  assert.deepEqual(await collect(streamOf("ab", "cd", "e\nf", "g")), [
    { number: 1, text: "abcde" },
    { number: 2, text: "fg" },
  ]);
});

Deno.test("readLines of an empty stream yields nothing", async () => {
  assert.deepEqual(await collect(streamOf()), []);
  assert.deepEqual(await collect(streamOf("")), []);
});

Deno.test("readLines decodes a multi-byte UTF-8 character split across chunks", async () => {
  const bytes = encoder.encode("bücher €\n");
  // "ü" is 2 bytes at offset 1; "€" is 3 bytes at offset 8: split inside both.
  const lines = await collect(
    streamOf(bytes.slice(0, 2), bytes.slice(2, 9), bytes.slice(9, 10), bytes.slice(10)),
  );
  assert.deepEqual(lines, [{ number: 1, text: "bücher €" }]);
});

Deno.test("readLines drops a UTF-8 byte order mark at the start", async () => {
  const lines = await collect(streamOf(Uint8Array.of(0xef, 0xbb, 0xbf), "x\n"));
  assert.deepEqual(lines, [{ number: 1, text: "x" }]);
});

Deno.test("readLines marks a line of invalid UTF-8 with an error and reads on", async () => {
  const lines = await collect(streamOf("ok\n", Uint8Array.of(0x61, 0xff, 0x0a), "next\n"));
  assert.deepEqual(lines, [
    { number: 1, text: "ok" },
    { number: 2, text: "", error: "not valid UTF-8" },
    { number: 3, text: "next" },
  ]);
});

Deno.test("readLines marks a truncated multi-byte character at the end as invalid UTF-8", async () => {
  const lines = await collect(streamOf("ok\n", Uint8Array.of(0x61, 0xe2, 0x82)));
  assert.deepEqual(lines[1], { number: 2, text: "", error: "not valid UTF-8" });
});

Deno.test("readLines names the line that holds invalid UTF-8 when it shares a chunk", async () => {
  const bytes = Uint8Array.of(...encoder.encode("ok\nok\n"), 0x61, 0xff, 0x0a);
  const lines = await collect(streamOf(bytes));
  assert.deepEqual(lines[2], { number: 3, text: "", error: "not valid UTF-8" });
});

Deno.test("readLines stops at a line over maxLineBytes with line_too_long", async () => {
  const { error, lines } = await failure(
    streamOf("short\n", "x".repeat(6), "x".repeat(6)),
    { maxLineBytes: 10 },
  );
  assert.equal(error.code, "line_too_long");
  assert.equal(error.message, "Line 2: longer than 10 bytes");
  assert.deepEqual(lines, [{ number: 1, text: "short" }]);
});

Deno.test("readLines accepts a line of exactly maxLineBytes", async () => {
  const lines = await collect(streamOf("x".repeat(5), "x".repeat(5), "\n"), { maxLineBytes: 10 });
  assert.deepEqual(lines, [{ number: 1, text: "x".repeat(10) }]);
});

Deno.test({
  name: "readLines rejects a line over maxLineBytes even when it ends in the same chunk",
  async fn(): Promise<void> {
    const { error } = await failure(streamOf(`ok\n${"x".repeat(20)}\nok\n`), {
      maxLineBytes: 10,
    });
    assert.equal(error.code, "line_too_long");
    assert.equal(error.message, "Line 2: longer than 10 bytes");
  },
});
