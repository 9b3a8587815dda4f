/** Plumbing for the admin tests: a node with the admin API on loopback, and its requests. */
import assert from "node:assert/strict";
import { AdminAuth, mountAdminRoutes, SetupToken } from "../../src/admin/mod.ts";
import type { ConfigLayer } from "../../src/core/config.ts";
import { resolveConfig } from "../../src/core/config.ts";
import { createApp } from "../../src/api/app.ts";
import { createHttpMetrics } from "../../src/http/http_metrics.ts";
import { startServer } from "../../src/http/server.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { type Node, openNode } from "../../src/node/node.ts";
import { fakeClock, tempDir, type TestNode } from "../_helpers.ts";

/** A password that meets the policy. */
export const PASSWORD = "correct horse battery staple";

/** A node serving the admin API, built the way `serveNode` builds it. */
export interface AdminTestNode extends AsyncDisposable {
  url: string;
  node: Node;
  auth: AdminAuth;
  /** The first-run token, or null when an account existed at start. */
  setupToken: string | null;
  clock: ReturnType<typeof fakeClock>;
  logLines: string[];
  dataDir: string;
}

/** Starts a node on 127.0.0.1 port 0; `secure` marks it as served over TLS. */
export async function startAdminNode(
  options: { secure?: boolean; config?: ConfigLayer; dataDir?: string } = {},
): Promise<AdminTestNode> {
  const dir = options.dataDir === undefined ? await tempDir() : undefined;
  const dataDir = options.dataDir ?? dir!.path;
  const config = resolveConfig({
    ...options.config,
    auth: { required: false, ...options.config?.auth },
    store: { reloadCheckSeconds: 3600 },
    dataDir,
    listen: "127.0.0.1:0",
  });
  const log = memoryLogger();
  const clock = fakeClock();
  const node = await openNode(config, { clock, log });
  const auth = new AdminAuth({
    db: node.db,
    clock,
    config: config.admin,
    secure: options.secure ?? false,
    log,
  });
  const setup = auth.hasAccount() ? null : new SetupToken();
  const metrics = createHttpMetrics(() => node.index.current);
  const app = createApp({
    config,
    node,
    metrics,
    log,
    routers: [
      (app, instrumentDeps) => mountAdminRoutes(app, { ...instrumentDeps, auth, setup, node }),
    ],
  });
  const server = startServer(app, { hostname: "127.0.0.1", port: 0 });
  auth.origins.listening(server.url);
  return {
    url: server.url,
    node,
    auth,
    setupToken: setup?.value ?? null,
    clock,
    logLines: log.lines,
    dataDir,
    async [Symbol.asyncDispose](): Promise<void> {
      await server.shutdown();
      node.close();
      await dir?.[Symbol.asyncDispose]();
    },
  };
}

/** A response with its parsed JSON body (null when empty). */
export interface ApiResponse {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** Request options for {@link api}. */
export interface ApiOptions {
  method?: string;
  json?: unknown;
  /** The `pksn_admin=…` cookie pair. */
  cookie?: string;
  csrf?: string;
  headers?: Record<string, string>;
}

/** Sends a request to the admin API (or any path) and parses the JSON answer. */
export async function api(
  target: { url: string },
  path: string,
  options: ApiOptions = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.json !== undefined) headers["content-type"] = "application/json";
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  if (options.csrf !== undefined) headers["x-csrf-token"] = options.csrf;
  const res = await fetch(target.url + path, {
    method: options.method ?? (options.json === undefined ? "GET" : "POST"),
    headers,
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** Asserts an answer is the one error shape with `status` and `code`. */
export function assertError(res: ApiResponse, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body), ["error"]);
  assert.equal(res.body.error.code, code, JSON.stringify(res.body));
}

/** Creates the first account through `POST /admin/api/setup`. */
export async function setUp(
  target: AdminTestNode,
  username = "admin",
  password = PASSWORD,
): Promise<void> {
  const res = await api(target, "/admin/api/setup", {
    json: { token: target.setupToken, username, password },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

/** A logged-in session: the cookie pair to send and the CSRF token. */
export interface LoggedIn {
  cookie: string;
  csrf: string;
  setCookie: string;
}

/** Logs in and returns the session cookie and CSRF token. */
export async function logIn(
  target: { url: string },
  username = "admin",
  password = PASSWORD,
): Promise<LoggedIn> {
  const res = await api(target, "/admin/api/login", { json: { username, password } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const setCookie = res.headers.get("set-cookie") ?? "";
  const cookie = setCookie.split(";", 1)[0];
  assert.match(cookie, /^pksn_admin=[A-Za-z0-9_-]{43}$/);
  return { cookie, csrf: res.body.csrfToken, setCookie };
}

/** The audit entries whose action starts with `admin.` (or all when `all`). */
export function auditRows(
  node: Node,
  all = false,
): { actor: string; action: string; detail: string | null }[] {
  return node.db.prepare(
    `SELECT actor, action, detail FROM audit ${
      all ? "" : "WHERE action LIKE 'admin.%'"
    } ORDER BY id`,
  ).all() as unknown as { actor: string; action: string; detail: string | null }[];
}

/** Options for {@link rawRequest}. */
export interface RawOptions {
  method?: string;
  /** The Host header, which `fetch` will not let a caller choose. */
  host: string;
  headers?: Record<string, string>;
  json?: unknown;
}

/**
 * Sends one HTTP/1.1 request over a plain TCP connection, so the test chooses the
 * `Host` header as a DNS-rebinding page's browser would send it.
 */
export async function rawRequest(
  target: { url: string },
  path: string,
  options: RawOptions,
): Promise<ApiResponse> {
  const { hostname, port } = new URL(target.url);
  const body = options.json === undefined ? "" : JSON.stringify(options.json);
  const headers: Record<string, string> = {
    host: options.host,
    connection: "close",
    ...(options.json === undefined ? {} : { "content-type": "application/json" }),
    "content-length": String(new TextEncoder().encode(body).length),
    ...options.headers,
  };
  const head =
    `${options.method ?? (options.json === undefined ? "GET" : "POST")} ${path} HTTP/1.1\r\n` +
    Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
  const conn = await Deno.connect({ hostname, port: Number(port) });
  let text = "";
  try {
    await conn.write(new TextEncoder().encode(head + body));
    const decoder = new TextDecoder();
    for await (const chunk of conn.readable) text += decoder.decode(chunk, { stream: true });
    text += decoder.decode();
  } catch (err) {
    conn.close();
    throw err;
  }
  const split = text.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = text.slice(0, split).split("\r\n");
  const received = new Headers(
    lines.map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]),
  );
  let rest = text.slice(split + 4);
  if (received.get("transfer-encoding") === "chunked") {
    let decoded = "";
    while (true) {
      const end = rest.indexOf("\r\n");
      const size = parseInt(rest.slice(0, end), 16);
      if (!size) break;
      decoded += rest.slice(end + 2, end + 2 + size);
      rest = rest.slice(end + 2 + size + 2);
    }
    rest = decoded;
  }
  return {
    status: Number(statusLine.split(" ")[1]),
    headers: received,
    body: rest ? JSON.parse(rest) : null,
  };
}

/**
 * Creates the admin account straight in a test node's database (no setup token) and signs in:
 * for tests of routes behind the session, not of the setup itself.
 */
export async function adminSession(node: TestNode): Promise<LoggedIn> {
  await new AdminAuth({
    db: node.serving.node.db,
    clock: { now: () => Date.now() },
    config: node.config.admin,
    secure: false,
    log: memoryLogger(),
  }).setPassword("admin", PASSWORD);
  return await logIn(node);
}
