/**
 * Sends a route description's example to a node as a client would, with the credentials the
 * route's security names, and checks the answer against the description: the status, then the
 * body with the zod schema documented for that status.
 */
import assert from "node:assert/strict";
import type { RouteDoc, RouteExample } from "../../src/http/mod.ts";

/** The licence key every licensed example is sent with: the demo licence `--demo` registers. */
export const DEMO_KEY = "DEMO-KEY-NOT-FOR-PRODUCTION";

/** The admin session the session-guarded examples are sent with. */
export interface Session {
  cookie: string;
  csrf: string;
}

const STATE_CHANGING = new Set(["POST", "PATCH", "DELETE"]);

/** The request path of `doc.path` with the example's parameters filled in and its query. */
export function examplePath(doc: RouteDoc, example: RouteExample): string {
  const value = (name: string): string => {
    const given = example.params?.[name];
    if (given === undefined) throw new Error(`${doc.path}: example has no parameter "${name}"`);
    return encodeURIComponent(given);
  };
  const path = doc.path.replace(/:([A-Za-z_]+)(?:\{[^}]*\})?/g, (_m, name: string) => value(name))
    .replace(/\/\*$/, () => `/${value("path")}`);
  const query = new URLSearchParams(example.query ?? {}).toString();
  return query === "" ? path : `${path}?${query}`;
}

function requestOf(doc: RouteDoc, example: RouteExample, session: Session | null): RequestInit {
  const headers = new Headers();
  if (!example.anonymous) {
    if (doc.security === "licence") headers.set("authorization", `Bearer ${DEMO_KEY}`);
    if (doc.security === "vt-key") headers.set("x-apikey", DEMO_KEY);
    if (doc.security === "session") {
      assert.ok(session, `${doc.method} ${doc.path} needs a session`);
      headers.set("cookie", session.cookie);
      if (STATE_CHANGING.has(doc.method)) headers.set("x-csrf-token", session.csrf);
    }
  }
  let body: string | undefined;
  if (example.body !== undefined) {
    const json = doc.body?.contentType === "application/json";
    body = json ? JSON.stringify(example.body) : String(example.body);
    headers.set("content-type", doc.body?.contentType ?? "application/json");
  }
  for (const [name, value] of Object.entries(example.headers ?? {})) headers.set(name, value);
  return { method: doc.method, headers, body };
}

/**
 * Sends `example` to the node at `url` and asserts the answer is the documented one; returns the
 * parsed JSON body (null when there is none or it is not JSON).
 */
export async function checkExample(
  url: string,
  doc: RouteDoc,
  example: RouteExample,
  session: Session | null = null,
): Promise<unknown> {
  const res = await fetch(url + examplePath(doc, example), requestOf(doc, example, session));
  const text = await res.text();
  const what = `${doc.method} ${doc.path} "${example.summary}"`;
  assert.equal(res.status, example.status, `${what} answered ${res.status}: ${text}`);
  const answer = doc.responses[res.status];
  assert.ok(answer, `${what}: status ${res.status} is not documented`);
  if (answer.schema !== undefined) {
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/, what);
    // A HEAD answer has the headers of the GET answer and no body.
    if (doc.method === "HEAD") return null;
    const parsed = answer.schema.safeParse(JSON.parse(text));
    assert.ok(
      parsed.success,
      `${what}: the answer does not fit its documented schema: ${
        parsed.success ? "" : JSON.stringify(parsed.error.issues)
      }\n${text}`,
    );
    return parsed.data;
  }
  if (answer.contentType !== undefined) {
    const type = answer.contentType.split(";")[0];
    assert.equal(res.headers.get("content-type")?.split(";")[0], type, what);
    return null;
  }
  assert.equal(text, "", `${what}: documented without a body, answered ${text}`);
  return null;
}
