/** Plumbing for the licence tests: a node with licence checks on, licences, requests. */
import assert from "node:assert/strict";
import type { ConfigLayer } from "../../src/core/config.ts";
import type { ClientMode, NewLicence } from "../../src/licences/mod.ts";
import { fakeClock, startTestNode, type TestNode } from "../_helpers.ts";

/** One day in milliseconds. */
export const DAY_MS = 86_400_000;
/** One day in seconds. */
export const DAY_S = 86_400;

/** A look-up of an object the node knows nothing about: 200 when the licence checks pass. */
export const LOOKUP = "/v1/files/0123456789abcdef0123456789abcdef";

/** The fake clock the tests move. */
export type FakeClock = ReturnType<typeof fakeClock>;

/** A test node that requires licences, with the fake clock it runs on. */
export interface AuthNode extends TestNode {
  clock: FakeClock;
}

/**
 * Starts a node with licence checks on and a fake clock. The background reload
 * timer is slowed to an hour unless the config says otherwise, so a test decides
 * when the node catches up (with `refreshIfChanged`).
 */
export async function startAuthNode(options: { config?: ConfigLayer } = {}): Promise<AuthNode> {
  const clock = fakeClock();
  const node = await startTestNode({
    clock,
    config: {
      ...options.config,
      auth: { required: true },
      store: { reloadCheckSeconds: 3600, ...options.config?.store },
    },
  });
  return Object.assign(node, { clock });
}

/** Unix seconds on the node's clock. */
export function nowSeconds(node: AuthNode): number {
  return Math.floor(node.clock.now() / 1000);
}

/**
 * Registers a licence as the operator would (valid for a year unless `input` says
 * otherwise), lets the running node see it and returns its key.
 */
export async function addLicence(node: AuthNode, input: Partial<NewLicence> = {}): Promise<string> {
  const { key } = node.serving.node.licences.add({
    customer: "Example Customer",
    expires: nowSeconds(node) + 365 * DAY_S,
    ...input,
  }, "test");
  await node.serving.node.refreshIfChanged();
  return key;
}

/** Headers that carry `key` as a bearer token. */
export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** A status, the headers and the parsed JSON body. */
export interface JsonResponse {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** Sends a request to the node and parses its JSON answer. */
export async function request(
  node: TestNode,
  path: string,
  init: RequestInit = {},
): Promise<JsonResponse> {
  const res = await fetch(node.url + path, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(
      `${init.method ?? "GET"} ${path} answered ${res.status} with non-JSON: ${text}`,
    );
  }
  return { status: res.status, headers: res.headers, body };
}

/** Looks an unknown file hash up with `key` as a bearer token (no key when undefined). */
export async function lookup(node: TestNode, key: string | undefined): Promise<JsonResponse> {
  return await request(node, LOOKUP, { headers: key === undefined ? {} : bearer(key) });
}

/** POSTs a participation choice with `key`. */
export async function choose(
  node: TestNode,
  key: string,
  body: unknown,
): Promise<JsonResponse> {
  return await request(node, "/v1/participation", {
    method: "POST",
    headers: { ...bearer(key), "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Accepts the node's current statement for `key` in `mode`, as a client would. */
export async function acceptStatement(
  node: TestNode,
  key: string,
  mode: ClientMode = "without-statistics",
): Promise<void> {
  const statement = await request(node, "/v1/statement");
  assert.equal(statement.status, 200);
  const res = await choose(node, key, { mode, statementVersion: statement.body.version });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** Registers a licence and accepts the statement with it: a client ready to look up. */
export async function readyClient(
  node: AuthNode,
  input: Partial<NewLicence> = {},
): Promise<string> {
  const key = await addLicence(node, input);
  await acceptStatement(node, key);
  return key;
}

/** Asserts `{"error":{"code","message"}}` with `status` and `code`; returns the message. */
export function assertError(res: JsonResponse, status: number, code: string): string {
  const shown = JSON.stringify(res.body);
  assert.equal(res.status, status, shown);
  assert.deepEqual(Object.keys(res.body), ["error"], shown);
  assert.deepEqual(Object.keys(res.body.error), ["code", "message"], shown);
  assert.equal(res.body.error.code, code, shown);
  assert.equal(typeof res.body.error.message, "string");
  return res.body.error.message;
}

/** Asserts a 401 with `code` and the Bearer challenge; returns the message. */
export function assertUnauthorized(res: JsonResponse, code: string): string {
  const message = assertError(res, 401, code);
  assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="pksn"');
  return message;
}

/** Polls `check` every 25 ms until it returns true or `timeoutMs` passes. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 5000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return await check();
}
