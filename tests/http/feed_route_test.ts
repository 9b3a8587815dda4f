/**
 * `GET /feed/*` on a core node that serves the verified feed tree to downstream
 * nodes: cache headers, Range, HEAD, what it refuses, and the licence guard.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { TestNode } from "../_helpers.ts";
import {
  addLicence,
  fileRecords,
  startChild,
  startFollowing,
  syncOf,
  type TestOrigin,
} from "../sync/_feed.ts";
import { readCurrent } from "../sync/_faults.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";

/** A synced core that serves its feed (licence-guarded, the default) with a key for it. */
interface Core extends AsyncDisposable {
  origin: TestOrigin;
  node: TestNode;
  key: string;
  /** Names in the served tree: the current manifest, the snapshot and the delta 1→2. */
  manifest: string;
  snapshot: string;
  delta: string;
}

async function startCore(): Promise<Core> {
  await using stack = new AsyncDisposableStack();
  const { origin, child: node } = stack.use(
    await startFollowing(fileRecords(200), { serveFeed: true }),
  );
  await origin.publishRecords(fileRecords(200, "phishing"));
  assert.equal((await syncOf(node).runOnce()).to, 2);
  const key = await addLicence(node, "Example Downstream");
  const { timestamp, manifest } = await readCurrent(origin.tree);
  const owned = stack.move();
  return {
    origin,
    node,
    key,
    manifest: timestamp.manifest.name,
    snapshot: manifest.snapshot.name,
    delta: manifest.deltas.find((d) => d.from === 1)!.name,
    [Symbol.asyncDispose]: () => owned.disposeAsync(),
  };
}

/** Requests `/feed/NAME` from the core with its licence key. */
function feed(core: Core, name: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${core.node.url}/feed/${name}`, {
    ...init,
    headers: { authorization: `Bearer ${core.key}`, ...init.headers },
  });
}

/** The bytes the origin published under `name`. */
function published(core: Core, name: string): Promise<Uint8Array> {
  return Deno.readFile(join(core.origin.tree, name));
}

/**
 * Sends `GET path` as raw bytes, so that `..` and `%2e%2e` reach the server as
 * written (fetch would resolve them first); returns the status and the body.
 */
async function rawGet(core: Core, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(core.node.url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
        `Authorization: Bearer ${core.key}\r\nConnection: close\r\n\r\n`,
    ));
    const chunks: Uint8Array[] = [];
    for await (const chunk of conn.readable) chunks.push(chunk);
    const text = new TextDecoder("latin1").decode(
      Uint8Array.from(chunks.flatMap((c) => [...c])),
    );
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    try {
      conn.close();
    } catch { /* closed by the readable's end */ }
  }
}

Deno.test("GET /feed/timestamp.json and /feed/root.json are served as signed, with no-cache", async () => {
  await using core = await startCore();
  for (const name of ["timestamp.json", "root.json"]) {
    const res = await feed(core, name);
    assert.equal(res.status, 200, name);
    assert.equal(res.headers.get("cache-control"), "no-cache", name);
    assert.equal(res.headers.get("content-type"), "application/json", name);
    assert.equal(res.headers.get("accept-ranges"), "bytes", name);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), await published(core, name), name);
  }
});

Deno.test("GET /feed/ serves manifests, snapshots and deltas as immutable for a year", async () => {
  await using core = await startCore();
  const types = [
    [core.manifest, "application/json"],
    [core.snapshot, "application/octet-stream"],
    [core.delta, "application/octet-stream"],
  ];
  for (const [name, type] of types) {
    const res = await feed(core, name);
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.equal(res.status, 200, name);
    assert.equal(res.headers.get("cache-control"), IMMUTABLE, name);
    assert.equal(res.headers.get("content-type"), type, name);
    assert.equal(res.headers.get("accept-ranges"), "bytes", name);
    assert.equal(res.headers.get("content-length"), String(bytes.length), name);
    assert.deepEqual(bytes, await published(core, name), `${name} as published`);
  }
});

Deno.test("GET /feed/ answers a Range with 206, its Content-Range and exactly those bytes", async () => {
  await using core = await startCore();
  const whole = await published(core, core.snapshot);
  const size = whole.length;
  const cases: [string, number, number][] = [
    ["bytes=10-19", 10, 19],
    ["bytes=100-", 100, size - 1],
    ["bytes=0-0", 0, 0],
    [`bytes=${size - 1}-`, size - 1, size - 1],
    [`bytes=5-${size + 1000}`, 5, size - 1],
  ];
  for (const [range, start, end] of cases) {
    const res = await feed(core, core.snapshot, { headers: { range } });
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.equal(res.status, 206, range);
    assert.equal(res.headers.get("content-range"), `bytes ${start}-${end}/${size}`, range);
    assert.equal(res.headers.get("content-length"), String(end - start + 1), range);
    assert.deepEqual(bytes, whole.subarray(start, end + 1), range);
  }
});

Deno.test("GET /feed/ answers a suffix Range with the file's last bytes", async () => {
  await using core = await startCore();
  const whole = await published(core, core.delta);
  const size = whole.length;
  const res = await feed(core, core.delta, { headers: { range: "bytes=-16" } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get("content-range"), `bytes ${size - 16}-${size - 1}/${size}`);
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), whole.subarray(size - 16));
  const longer = await feed(core, core.delta, { headers: { range: `bytes=-${size + 50}` } });
  assert.equal(longer.status, 206, "a suffix longer than the file is the whole file");
  assert.deepEqual(new Uint8Array(await longer.arrayBuffer()), whole);
});

Deno.test("GET /feed/ answers 416 to a Range that starts at or beyond the end", async () => {
  await using core = await startCore();
  const size = (await published(core, core.snapshot)).length;
  for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`]) {
    const res = await feed(core, core.snapshot, { headers: { range } });
    const body = await res.json();
    assert.equal(res.status, 416, range);
    assert.equal(res.headers.get("content-range"), `bytes */${size}`, range);
    assert.equal(body.error.code, "range_not_satisfiable", range);
  }
});

Deno.test("HEAD /feed/ answers the headers of a GET and no body", async () => {
  await using core = await startCore();
  const size = (await published(core, core.snapshot)).length;
  const head = await feed(core, core.snapshot, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(size));
  assert.equal(head.headers.get("cache-control"), IMMUTABLE);
  assert.equal(head.headers.get("accept-ranges"), "bytes");
  assert.equal((await head.arrayBuffer()).byteLength, 0);
  const ranged = await feed(core, core.snapshot, {
    method: "HEAD",
    headers: { range: "bytes=4-" },
  });
  assert.equal(ranged.status, 206);
  assert.equal(ranged.headers.get("content-range"), `bytes 4-${size - 1}/${size}`);
  assert.equal((await ranged.arrayBuffer()).byteLength, 0);
  const stamp = await feed(core, "timestamp.json", { method: "HEAD" });
  await stamp.body?.cancel();
  assert.equal(stamp.status, 200);
  assert.equal(stamp.headers.get("cache-control"), "no-cache");
});

Deno.test("GET /feed/ answers 404 not_found for a name the feed does not have", async () => {
  await using core = await startCore();
  for (
    const name of [
      "nothing.json",
      "snapshots/1.0000.bin",
      "deltas/9-10.bin",
      "root.99.json",
      "manifests/",
      "pksn.db",
      "sync/lock",
    ]
  ) {
    const res = await feed(core, name);
    const body = await res.json();
    assert.equal(res.status, 404, name);
    assert.equal(body.error.code, "not_found", name);
  }
});

Deno.test("GET /feed/ answers 404 to path traversal and never serves the database", async () => {
  await using core = await startCore();
  await Deno.stat(join(core.node.dataDir, "pksn.db")); // the file a traversal would reach
  const attempts = [
    "/feed/../pksn.db",
    "/feed/%2e%2e/pksn.db",
    "/feed/%2E%2E/%2E%2E/pksn.db",
    "/feed/snapshots/../../pksn.db",
    "/feed/snapshots/..%2F..%2F..%2Fpksn.db",
    "/feed/..%2F..%2Fpksn.db",
    "/feed/snapshots%2F..%2F..%2F..%2Fpksn.db",
    "/feed/manifests/%2e%2e%2f%2e%2e%2f%2e%2e%2fpksn.db",
    "/feed/.%2e/.%2e/pksn.db",
  ];
  for (const path of attempts) {
    const res = await rawGet(core, path);
    assert.equal(res.status, 404, path);
    assert.ok(!res.body.includes("SQLite format 3"), `${path} leaks no database`);
  }
});

Deno.test("GET /feed/ answers 404 not_found to a broken %-escape, not 500", async () => {
  await using core = await startCore();
  for (const path of ["/feed/%E0%A4%A", "/feed/snapshots/%", "/feed/%ZZ.json"]) {
    const res = await rawGet(core, path);
    assert.equal(res.status, 404, path);
    assert.match(res.body, /"code":"not_found"/, path);
  }
});

Deno.test("POST /feed/timestamp.json answers 405 with Allow: GET, HEAD", async () => {
  await using core = await startCore();
  const res = await feed(core, "timestamp.json", { method: "POST", body: "{}" });
  const body = await res.json();
  assert.equal(res.status, 405);
  assert.equal(body.error.code, "method_not_allowed");
  assert.equal(res.headers.get("allow"), "GET, HEAD");
});

Deno.test("GET /feed/ needs a registered licence key by default (feedRequiresLicence)", async () => {
  await using core = await startCore();
  const url = `${core.node.url}/feed/timestamp.json`;
  const none = await fetch(url);
  assert.equal(none.status, 401);
  assert.equal((await none.json()).error.code, "license_missing");
  const unknown = await fetch(url, {
    headers: { authorization: "Bearer pksn-not-a-registered-key" },
  });
  assert.equal(unknown.status, 401);
  await unknown.body?.cancel();
  const snapshot = await fetch(`${core.node.url}/feed/${core.snapshot}`);
  assert.equal(snapshot.status, 401, "data files too");
  await snapshot.body?.cancel();
  const keyed = await feed(core, "timestamp.json");
  assert.equal(keyed.status, 200);
  await keyed.body?.cancel();
  const header = await fetch(url, { headers: { "x-license-key": core.key } });
  assert.equal(header.status, 200, "X-License-Key works too");
  await header.body?.cancel();
});

Deno.test("an edge with sync.key syncs from a licence-guarded core", async () => {
  await using core = await startCore();
  await using edge = await startChild(`${core.node.url}/feed/`, core.origin.rootPath, {
    key: core.key,
  });
  const result = await syncOf(edge).runOnce();
  assert.deepEqual([result.outcome, result.to], ["updated", 2]);
  assert.equal(syncOf(edge).report().state, "fresh");
});

Deno.test("an edge with a wrong sync.key fails with unauthorized, pointing at sync.key", async () => {
  await using core = await startCore();
  await using edge = await startChild(`${core.node.url}/feed/`, core.origin.rootPath, {
    key: "pksn-wrong-key-0000",
  });
  await assert.rejects(syncOf(edge).runOnce(), (err: Error & { code?: string }) => {
    assert.equal(err.code, "unauthorized");
    assert.match(err.message, /sync\.key/);
    assert.match(err.message, /401/);
    return true;
  });
  const report = syncOf(edge).report();
  assert.equal(report.version, 0);
  assert.equal(report.consecutiveFailures, 1);
  assert.match(report.lastError ?? "", /^unauthorized: .*sync\.key/);
});

Deno.test("an edge without sync.key at a licence-guarded core is told to set sync.key", async () => {
  await using core = await startCore();
  await using edge = await startChild(`${core.node.url}/feed/`, core.origin.rootPath);
  await assert.rejects(syncOf(edge).runOnce(), (err: Error & { code?: string }) => {
    assert.equal(err.code, "unauthorized");
    assert.match(
      err.message,
      /"http:\/\/[^"]+\/feed\/timestamp\.json" answered 401: the server wants credentials; set sync\.key/,
    );
    return true;
  });
  assert.equal(syncOf(edge).report().version, 0);
});
