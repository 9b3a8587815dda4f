/**
 * A counting fake parent over real HTTP on loopback, and a proxying node in front of it:
 * the parent answers `POST /v1/lookup` as a pksn node does, from records a test sets, and can
 * be made slow, failing or gone.
 */
import assert from "node:assert/strict";
import { serveNode, type ServingNode } from "../../src/cli/serve.ts";
import type { Clock } from "../../src/core/clock.ts";
import { type ConfigLayer, resolveConfig } from "../../src/core/config.ts";
import { memoryLogger } from "../../src/core/log.ts";
import type { NodeMode } from "../../src/licences/mod.ts";

/** What the fake parent knows and how it behaves; tests change it while it runs. */
export interface FakeParent {
  url: string;
  /** Records by `type value`; anything else is unknown. */
  records: Map<string, Record<string, unknown>>;
  /** When set, the record of every object not in `records`. */
  everything: Record<string, unknown> | null;
  /** Requests to `/v1/lookup` received, and the items of each. */
  requests: { items: { type: string; value: string }[]; authorization: string | null }[];
  /** Milliseconds the parent waits before answering. */
  delayMs: number;
  /** When set, the status it answers with instead of results. */
  failWith: number | null;
  close(): Promise<void>;
}

/** Starts the fake parent on 127.0.0.1 (a given port, or any). */
export function startFakeParent(port = 0): FakeParent {
  const parent: FakeParent = {
    url: "",
    records: new Map(),
    everything: null,
    requests: [],
    delayMs: 0,
    failWith: null,
    close: () => server.shutdown(),
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      if (request.method !== "POST" || url.pathname !== "/v1/lookup") {
        return new Response("not found", { status: 404 });
      }
      const { items } = await request.json() as { items: { type: string; value: string }[] };
      parent.requests.push({ items, authorization: request.headers.get("authorization") });
      if (parent.delayMs) await new Promise((r) => setTimeout(r, parent.delayMs));
      if (parent.failWith !== null) {
        return Response.json(
          { error: { code: "unavailable", message: "the fake parent is failing" } },
          { status: parent.failWith },
        );
      }
      const results = items.map((item) => {
        const record = parent.records.get(`${item.type} ${item.value}`) ?? parent.everything;
        return record ? { type: item.type, value: item.value, ...record, via: "mirror" } : {
          type: item.type,
          value: item.value,
          verdict: "unknown",
          ttl: 300,
          source: "none",
          via: "none",
        };
      });
      return Response.json({ results });
    },
  );
  parent.url = `http://127.0.0.1:${server.addr.port}`;
  return parent;
}

/** A listed file record as the fake parent gives it. */
export function listed(threat: string, ttl = 3600): Record<string, unknown> {
  return { verdict: "malicious", threat, ttl, source: "parent-feed" };
}

/** A node proxying to a parent, with a client licence. */
export interface ProxyNode {
  url: string;
  serving: ServingNode;
  /** The client's licence key. */
  key: string;
  logLines: string[];
  stop(): Promise<void>;
}

/** Starts a node over `dataDir` with the proxy on (unless `config` says otherwise). */
export async function startProxyNode(options: {
  dataDir: string;
  parentUrl: string;
  clock: Clock;
  config?: ConfigLayer;
  mode?: NodeMode;
}): Promise<ProxyNode> {
  const log = memoryLogger();
  const { config = {} } = options;
  const serving = await serveNode(
    resolveConfig({
      ...config,
      dataDir: options.dataDir,
      listen: "127.0.0.1:0",
      auth: { required: true },
      upstream: { url: options.parentUrl, key: "node-key-at-parent", ...config.upstream },
      proxy: { enabled: true, ...config.proxy },
    }),
    { clock: options.clock, log },
  );
  const mode = options.mode ?? "with-statistics";
  serving.node.participation.set(mode, { acceptStatement: true, actor: "test" });
  const { key } = serving.node.licences.add({
    customer: "Proxy test client",
    expires: Math.floor(options.clock.now() / 1000) + 365 * 86_400,
  }, "test");
  await serving.node.refreshIfChanged();
  // Look-ups need the client's participation choice, as a real client makes it first.
  const statement = await fetch(`${serving.server.url}/v1/statement`).then((r) => r.json());
  const chosen = await fetch(`${serving.server.url}/v1/participation`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ mode: "without-statistics", statementVersion: statement.version }),
  });
  assert.equal(chosen.status, 200, await chosen.text());
  return {
    url: serving.server.url,
    serving,
    key,
    logLines: log.lines,
    stop: () => serving.stop(),
  };
}

/** GETs one file look-up with the client's key; the JSON result. */
export async function lookUpFile(node: ProxyNode, hash: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${node.url}/v1/files/${hash}`, {
    headers: { authorization: `Bearer ${node.key}` },
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body;
}

/** POSTs a batch look-up with the client's key; the results. */
export async function lookUpBatch(
  node: ProxyNode,
  items: { type: string; value: string }[],
): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${node.url}/v1/lookup`, {
    method: "POST",
    headers: { authorization: `Bearer ${node.key}`, "content-type": "application/json" },
    body: JSON.stringify({ items }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.results;
}

/** A distinct MD5-shaped hex value. */
export function hash(n: number): string {
  return n.toString(16).padStart(32, "0");
}
