/**
 * Every example the OpenAPI document shows is sent to a real node (demo data, licences required,
 * every router on), and must answer the documented status with a body that fits the schema
 * documented for that status: a route that answers otherwise, or a schema that does not match
 * the real answer, fails here.
 */
import assert from "node:assert/strict";
import { ADMIN_ROUTE_DOCS } from "../../src/admin/mod.ts";
import { PUBLIC_ROUTE_DOCS } from "../../src/api/openapi/route.ts";
import type { RouteDoc } from "../../src/http/mod.ts";
import { startTestNode } from "../_helpers.ts";
import { checkExample, type Session } from "./_examples.ts";

const USERNAME = "admin";
const PASSWORD = "correct horse battery staple";

function stepName(doc: RouteDoc, summary: string, status: number): string {
  return `${doc.method} ${doc.path}: ${summary} answers ${status}`;
}

Deno.test("every documented route has at least one example", () => {
  const without = [...PUBLIC_ROUTE_DOCS, ...ADMIN_ROUTE_DOCS]
    .filter((doc) => doc.examples.length === 0).map((doc) => `${doc.method} ${doc.path}`);
  assert.deepEqual(without, []);
});

Deno.test("every documented example answers its documented status and body", async (t) => {
  await using node = await startTestNode({
    demo: true,
    config: { auth: { required: true }, sync: { serveFeed: true }, upgrade: { enabled: true } },
  });
  const run = async (docs: readonly RouteDoc[], session: Session | null): Promise<void> => {
    for (const doc of docs) {
      for (const example of doc.examples) {
        await t.step(stepName(doc, example.summary, example.status), async () => {
          await checkExample(node.url, doc, example, session);
        });
      }
    }
  };
  await run(PUBLIC_ROUTE_DOCS, null);
  // Setup's examples run while the node has no account; then the account is made and used.
  const setup = ADMIN_ROUTE_DOCS.filter((doc) => doc.path === "/admin/api/setup");
  await run(setup, null);
  const token = /Admin setup token \(one use, this run only\): (\S+)/
    .exec(node.logLines.join("\n"))?.[1];
  assert.ok(token, "the node logs its setup token");
  const created = await fetch(`${node.url}/admin/api/setup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, username: USERNAME, password: PASSWORD }),
  });
  assert.equal(created.status, 201, await created.text());
  const login = await fetch(`${node.url}/admin/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: USERNAME, password: PASSWORD }),
  });
  const { csrfToken } = await login.json();
  const session = { cookie: login.headers.get("set-cookie")!.split(";", 1)[0], csrf: csrfToken };
  await run(ADMIN_ROUTE_DOCS.filter((doc) => !setup.includes(doc)), session);
});
