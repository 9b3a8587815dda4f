import assert from "node:assert/strict";
import { InvalidInputError } from "../../src/core/errors.ts";
import { type CsvRecord, csvRecords, headerColumns, parseCsvLine } from "../../src/core/csv.ts";
import type { NumberedLine } from "../../src/core/lines.ts";

function csvError(line: string): InvalidInputError {
  try {
    parseCsvLine(line);
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${error}`);
    assert.equal(error.code, "invalid_csv");
    return error;
  }
  assert.fail(`expected invalid_csv for ${JSON.stringify(line)}`);
}

Deno.test("parseCsvLine splits plain fields on commas", () => {
  assert.deepEqual(parseCsvLine("file,abc,malicious"), ["file", "abc", "malicious"]);
});

Deno.test("parseCsvLine keeps empty fields, leading, inner and trailing", () => {
  assert.deepEqual(parseCsvLine(",a,,b,"), ["", "a", "", "b", ""]);
  assert.deepEqual(parseCsvLine(""), [""]);
});

Deno.test("parseCsvLine keeps commas inside a quoted field", () => {
  assert.deepEqual(parseCsvLine('url,"Trojan, generic",x'), ["url", "Trojan, generic", "x"]);
});

Deno.test("parseCsvLine turns doubled quotes inside a quoted field into one quote", () => {
  assert.deepEqual(parseCsvLine('"say ""hi""",b'), ['say "hi"', "b"]);
  assert.deepEqual(parseCsvLine('""""'), ['"']);
});

Deno.test("parseCsvLine reads an empty quoted field and a quoted last field", () => {
  assert.deepEqual(parseCsvLine('a,"",b'), ["a", "", "b"]);
  assert.deepEqual(parseCsvLine('a,"b"'), ["a", "b"]);
  assert.deepEqual(parseCsvLine('"a",'), ["a", ""]);
});

Deno.test("parseCsvLine keeps a quote inside an unquoted field as text", () => {
  assert.deepEqual(parseCsvLine('a"b,c'), ['a"b', "c"]);
});

Deno.test("parseCsvLine honours another separator", () => {
  assert.deepEqual(parseCsvLine('a;"b;c";d', ";"), ["a", "b;c", "d"]);
});

Deno.test("parseCsvLine rejects an unterminated quoted field", () => {
  assert.equal(csvError('a,"open field').message, "Unterminated quoted field");
  csvError('"ends with a doubled quote""');
});

Deno.test("parseCsvLine rejects text after a closing quote, naming the column", () => {
  const error = csvError('"a"b,c');
  assert.match(error.message, /after a quoted field at column 4/);
});

Deno.test("headerColumns maps trimmed, lower-cased names to their positions", () => {
  assert.deepEqual(
    [...headerColumns([" Type", "VALUE ", "verdict"])],
    [["type", 0], ["value", 1], ["verdict", 2]],
  );
});

Deno.test("headerColumns drops a leading # comment marker and empty names", () => {
  assert.deepEqual([...headerColumns(["# type", "", "value"])], [["type", 0], ["value", 2]]);
});

Deno.test("headerColumns keeps the first of two columns with the same name", () => {
  assert.deepEqual([...headerColumns(["value", "Value"])], [["value", 0]]);
});

async function* numbered(...texts: string[]): AsyncGenerator<NumberedLine> {
  for (const [i, text] of texts.entries()) yield { number: i + 1, text };
}

async function records(...texts: string[]): Promise<CsvRecord[]> {
  return await Array.fromAsync(csvRecords(numbered(...texts)));
}

Deno.test("csvRecords joins the lines of a quoted field that spans lines, keeping the break", async () => {
  const found = await records("key,notes", 'k1,"first line', "second, line", 'third"', "k2,plain");
  assert.deepEqual(found, [
    { number: 1, text: "key,notes", lastNumber: 1 },
    { number: 2, text: 'k1,"first line\nsecond, line\nthird"', lastNumber: 4 },
    { number: 5, text: "k2,plain", lastNumber: 5 },
  ]);
  assert.deepEqual(parseCsvLine(found[1].text), ["k1", "first line\nsecond, line\nthird"]);
});

Deno.test("csvRecords reads doubled quotes and a quote inside an unquoted field as parseCsvLine does", async () => {
  const found = await records('a,"say ""hi""",b', 'x,ab"c,d', '"""",e');
  assert.deepEqual(found.map((r) => r.number), [1, 2, 3], "no line was joined to another");
});

Deno.test("csvRecords passes on a quote that never closes, so parsing names its first line", async () => {
  const found = await records("key,notes", 'k1,"never closed', "k2,plain");
  assert.deepEqual(found, [
    { number: 1, text: "key,notes", lastNumber: 1 },
    { number: 2, text: 'k1,"never closed\nk2,plain', lastNumber: 3 },
  ]);
  assert.match(csvError(found[1].text).message, /Unterminated quoted field/);
});

Deno.test("csvRecords stops joining at maxRecordChars, so one open quote cannot take the whole file", async () => {
  const lines = ['k,"open', ...Array.from({ length: 100 }, () => "x".repeat(50))];
  const found = await Array.fromAsync(
    csvRecords(numbered(...lines), { maxRecordChars: 1000 }),
  );
  assert.ok(found[0].text.length <= 1100, `${found[0].text.length} characters`);
  assert.equal(found[0].number, 1);
  assert.ok(found.length > 1);
});

Deno.test("csvRecords ends an open record at a line that is not text and passes that line on", async () => {
  const lines: NumberedLine[] = [
    { number: 1, text: 'k,"open' },
    { number: 2, text: "", error: "not UTF-8" },
    { number: 3, text: "k2,ok" },
  ];
  async function* from(): AsyncGenerator<NumberedLine> {
    yield* lines;
  }
  const found = await Array.fromAsync(csvRecords(from()));
  assert.deepEqual(found.map((r) => [r.number, r.error ?? null]), [[1, null], [2, "not UTF-8"], [
    3,
    null,
  ]]);
});
