/**
 * The README's API tables list exactly the routes the node answers: a route added without a
 * row, or a row left after its route went, fails here.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, startTestNode } from "./_helpers.ts";
import { API_PREFIXES } from "./_api_routes.ts";

const METHODS = /\b(GET|HEAD|POST|PUT|PATCH|DELETE)\b/g;

/** A path pattern with every parameter as ":p" and no query: `{id}`, `:id` and `:a{.+}` alike. */
function pattern(path: string): string {
  return path.split("?")[0]
    .replace(/\{[^}]*\}/g, (_m, at: number, whole: string) => (whole[at - 1] === "/" ? ":p" : ""))
    .replace(/:[A-Za-z_]+/g, ":p")
    .replace(/\/\*$/, "/:p");
}

/** "METHOD path" of every route a README table row names in its first cell. */
function readmeRoutes(text: string): Set<string> {
  const routes = new Set<string>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const cell = line.split(/(?<!\\)\|/)[1];
    const path = /`(?:[A-Z]+ )?(\/[^`\s]*)/.exec(cell)?.[1];
    if (path === undefined || !API_PREFIXES.some((p) => path.startsWith(p))) continue;
    for (const [method] of cell.matchAll(METHODS)) routes.add(`${method} ${pattern(path)}`);
  }
  return routes;
}

Deno.test("the README's API tables and the node's routes list the same routes", async () => {
  // Everything on: the feed tree, statistics and samples, so every router is mounted.
  await using node = await startTestNode({ config: { sync: { serveFeed: true } } });
  const served = new Set(
    node.serving.routes
      .filter((r) => r.method !== "ALL" && API_PREFIXES.some((p) => r.path.startsWith(p)))
      .map((r) => `${r.method} ${pattern(r.path)}`),
  );
  const documented = readmeRoutes(await Deno.readTextFile(join(ROOT, "README.md")));
  const undocumented = [...served].filter((r) => !documented.has(r)).sort();
  const gone = [...documented].filter((r) => !served.has(r)).sort();
  assert.deepEqual({ undocumented, gone }, { undocumented: [], gone: [] });
});
