/**
 * The folder layout is the architecture, and these tests keep it so. They read every module
 * under src/ as text, resolve its imports, and check the rules of docs/architecture.md:
 * folders import only folders on lower layers (so never in a circle), other folders only
 * through their mod.ts, `node:sqlite` and SQL only in store/, Hono only in http/, api/ and admin/, and
 * exit codes only in main.ts, and modules over 300 lines say why. Each rule is also shown to fail on a small fixture tree.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { ROOT } from "./_helpers.ts";

/** Module path (relative to src/, "/"-separated) to its source text. */
type Tree = ReadonlyMap<string, string>;

const IMPORT = /(?:^|[;\s])(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/g;
const BARE_IMPORT = /(?:^|[;\s])import\s*["']([^"']+)["']/g;
const DYNAMIC_IMPORT = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

// Longer modules say why in their opening comment ("Over 300 lines on purpose: ...").
const MAX_LINES = 300;

// A statement prepared, or SQL text run, on a database connection.
const SQL =
  /\.prepare\(|\.exec\(\s*["'`]\s*(?:SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|ATTACH|DETACH|VACUUM|WITH)\b/i;

/** Every specifier a module imports or re-exports. */
function importsOf(source: string): string[] {
  // Comments may mention imports; strings in code are not stripped (none hold "from '...'").
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  for (const pattern of [IMPORT, BARE_IMPORT, DYNAMIC_IMPORT]) {
    for (const match of code.matchAll(pattern)) found.push(match[1]);
  }
  return found;
}

/** The folder a module belongs to: its first path component, or the file for a top-level one. */
function folderOf(path: string): string {
  const slash = path.indexOf("/");
  return slash < 0 ? path.replace(/\.ts$/, "") : path.slice(0, slash);
}

/** Reads the layers from docs/architecture.md: the lines of its `layers` block, top first. */
function parseLayers(markdown: string): string[][] {
  const block = markdown.match(/```text layers\n([\s\S]*?)```/);
  assert.ok(block, 'docs/architecture.md has a "```text layers" block');
  return block[1].trim().split("\n").map((line) =>
    line.split(",").map((name) => name.trim().replace(/\/$/, "").replace(/\.ts$/, ""))
  );
}

/** What is wrong with a tree under the rules, one sentence a finding; empty when nothing is. */
function checkTree(tree: Tree, layers: string[][]): string[] {
  const findings: string[] = [];
  const layerOf = new Map<string, number>();
  layers.forEach((names, depth) => names.forEach((name) => layerOf.set(name, depth)));
  for (const [path, source] of tree) {
    const from = folderOf(path);
    if (!layerOf.has(from)) findings.push(`${path}: folder "${from}" is on no layer`);
    for (const specifier of importsOf(source)) {
      if (specifier === "node:sqlite" && from !== "store") {
        findings.push(`${path}: imports node:sqlite outside store/`);
      }
      if (
        (specifier === "hono" || specifier.startsWith("hono/")) &&
        !["http", "api", "admin"].includes(from)
      ) {
        findings.push(`${path}: imports Hono outside http/, api/ and admin/`);
      }
      if (!specifier.startsWith(".")) continue;
      const target = normalize(join(dirname(path), specifier));
      if (target.startsWith("..")) continue; // outside src/ (none should be)
      const to = folderOf(target);
      if (to === from) {
        continue;
      }
      const file = target.slice(to.length + 1);
      if (target.includes("/") && file !== "mod.ts") {
        findings.push(`${path}: imports ${target}, not ${to}/mod.ts`);
      }
      const fromLayer = layerOf.get(from);
      const toLayer = layerOf.get(to);
      if (fromLayer !== undefined && toLayer !== undefined && toLayer <= fromLayer) {
        findings.push(
          `${path}: ${from} imports ${to}, which is ${
            toLayer === fromLayer ? "on its own" : "on a higher"
          } layer`,
        );
      }
    }
    const lines = source.split("\n").length - 1;
    if (lines > MAX_LINES && !/Over 300 lines on purpose/.test(source)) {
      findings.push(`${path}: ${lines} lines, with no comment saying why it is over 300`);
    }
    if (from !== "store" && SQL.test(source)) {
      findings.push(`${path}: runs SQL outside store/`);
    }
    if (from !== "main" && /\bDeno\.exit\(/.test(source)) {
      findings.push(`${path}: calls Deno.exit; only main.ts turns an outcome into an exit code`);
    }
  }
  return findings;
}

async function readSrc(): Promise<Tree> {
  const tree = new Map<string, string>();
  const src = join(ROOT, "src");
  const pending = [src];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) pending.push(path);
      else if (entry.name.endsWith(".ts")) {
        tree.set(relative(src, path), await Deno.readTextFile(path));
      }
    }
  }
  return tree;
}

Deno.test("src/ follows every rule of docs/architecture.md", async () => {
  const layers = parseLayers(await Deno.readTextFile(join(ROOT, "docs/architecture.md")));
  const findings = checkTree(await readSrc(), layers);
  assert.deepEqual(findings, [], findings.join("\n"));
});

const FIXTURE_LAYERS = [["main"], ["http", "admin"], ["reputation"], ["store"], ["core"]];

/** A clean fixture: each rule is broken by changing one module. */
function fixture(changes: Record<string, string> = {}): Tree {
  return new Map(Object.entries({
    "main.ts": 'import { serve } from "./http/mod.ts";\nDeno.exit(0);',
    "http/mod.ts": 'import { Hono } from "hono";\nimport { lookup } from "../reputation/mod.ts";',
    "admin/mod.ts": 'import { Hono } from "hono";',
    "reputation/mod.ts": 'export { lookup } from "./lookup.ts";',
    "reputation/lookup.ts":
      'import { get } from "../store/mod.ts";\nimport { AppError } from "../core/mod.ts";',
    "store/mod.ts": 'import { DatabaseSync } from "node:sqlite";\nexport * from "./_rows.ts";',
    "store/_rows.ts": 'import type { Clock } from "../core/mod.ts";',
    "core/mod.ts": "export class AppError extends Error {}",
    ...changes,
  }));
}

Deno.test("the architecture check passes a fixture that keeps every rule", () => {
  assert.deepEqual(checkTree(fixture(), FIXTURE_LAYERS), []);
});

Deno.test("the architecture check finds an import up the layers, and so any circle", () => {
  const findings = checkTree(
    fixture({ "store/_rows.ts": 'import { lookup } from "../reputation/mod.ts";' }),
    FIXTURE_LAYERS,
  );
  assert.deepEqual(findings, [
    "store/_rows.ts: store imports reputation, which is on a higher layer",
  ]);
});

Deno.test("the architecture check finds an import between two folders of one layer", () => {
  const findings = checkTree(
    fixture({
      "admin/mod.ts": 'import { Hono } from "hono";\nimport { x } from "../http/mod.ts";',
    }),
    FIXTURE_LAYERS,
  );
  assert.deepEqual(findings, ["admin/mod.ts: admin imports http, which is on its own layer"]);
});

Deno.test("the architecture check finds an import past a folder's mod.ts", () => {
  const findings = checkTree(
    fixture({
      "http/mod.ts":
        'import { Hono } from "hono";\nimport { lookup } from "../reputation/lookup.ts";',
    }),
    FIXTURE_LAYERS,
  );
  assert.deepEqual(findings, ["http/mod.ts: imports reputation/lookup.ts, not reputation/mod.ts"]);
});

Deno.test("the architecture check finds node:sqlite outside store/", () => {
  const findings = checkTree(
    fixture({ "reputation/lookup.ts": 'import { DatabaseSync } from "node:sqlite";' }),
    FIXTURE_LAYERS,
  );
  assert.deepEqual(findings, ["reputation/lookup.ts: imports node:sqlite outside store/"]);
});

Deno.test("the architecture check finds a module over 300 lines that does not say why", () => {
  const long = 'import { get } from "../store/mod.ts";\n' + "const x = 1;\n".repeat(300);
  assert.deepEqual(checkTree(fixture({ "reputation/lookup.ts": long }), FIXTURE_LAYERS), [
    "reputation/lookup.ts: 301 lines, with no comment saying why it is over 300",
  ]);
  const explained = "/** Over 300 lines on purpose: one table. */\n" + long;
  assert.deepEqual(checkTree(fixture({ "reputation/lookup.ts": explained }), FIXTURE_LAYERS), []);
});

Deno.test("the architecture check finds SQL run outside store/", () => {
  const findings = checkTree(
    fixture({
      "reputation/lookup.ts": 'import { get } from "../store/mod.ts";\ndb.exec("BEGIN");',
      "reputation/mod.ts": 'const row = db.prepare("SELECT 1").get();',
    }),
    FIXTURE_LAYERS,
  );
  assert.deepEqual(findings.sort(), [
    "reputation/lookup.ts: runs SQL outside store/",
    "reputation/mod.ts: runs SQL outside store/",
  ]);
  const regex = checkTree(
    fixture({ "reputation/mod.ts": "const m = /^x$/.exec(text);" }),
    FIXTURE_LAYERS,
  );
  assert.deepEqual(regex, [], "a regular expression's exec is not SQL");
});

Deno.test("the architecture check finds Hono outside http/, api/ and admin/", () => {
  const findings = checkTree(
    fixture({ "reputation/mod.ts": 'import { HTTPException } from "hono/http-exception";' }),
    FIXTURE_LAYERS,
  );
  assert.deepEqual(findings, ["reputation/mod.ts: imports Hono outside http/, api/ and admin/"]);
});

Deno.test("the architecture check finds an exit code chosen outside main.ts", () => {
  const findings = checkTree(
    fixture({ "http/mod.ts": 'import { Hono } from "hono";\nDeno.exit(3);' }),
    FIXTURE_LAYERS,
  );
  assert.deepEqual(findings, [
    "http/mod.ts: calls Deno.exit; only main.ts turns an outcome into an exit code",
  ]);
});

Deno.test("the architecture check finds a folder that is on no layer", () => {
  const findings = checkTree(fixture({ "extra/mod.ts": "export const x = 1;" }), FIXTURE_LAYERS);
  assert.deepEqual(findings, ['extra/mod.ts: folder "extra" is on no layer']);
});

Deno.test("the import reader sees multi-line, re-exported, bare and dynamic imports, not comments", () => {
  const source = [
    "import {",
    "  a,",
    '} from "./a.ts";',
    'export { b } from "./b.ts";',
    'import "./c.ts";',
    'const d = await import("./d.ts");',
    '// import { e } from "./e.ts";',
    '/** import { f } from "./f.ts"; */',
  ].join("\n");
  assert.deepEqual(importsOf(source).sort(), ["./a.ts", "./b.ts", "./c.ts", "./d.ts"]);
});
