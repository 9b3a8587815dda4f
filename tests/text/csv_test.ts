import assert from "node:assert/strict";
import { InvalidInputError } from "../../src/core/errors.ts";
import { headerColumns, parseCsvLine } from "../../src/core/csv.ts";

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
