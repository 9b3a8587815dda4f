/**
 * Plumbing for the sync tests: an origin that publishes a real signed feed, a
 * static file server on 127.0.0.1 whose answers a test can tamper with, and
 * child nodes that follow a feed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { memoryLogger } from "../../src/core/log.ts";
import { openStore } from "../../src/node/node.ts";
import { importRecords } from "../../src/feeds/mod.ts";
import { ORIGIN_MIRROR } from "../../src/store/entries.ts";
import { readLines } from "../../src/core/lines.ts";
import { initRoot, rotateRoot } from "../../src/feed/feed_root.ts";
import { type BuildReport, buildVersion } from "../../src/feed/publisher.ts";
import type { SigningKey } from "../../src/feed/signing.ts";
import type { Config } from "../../src/core/config.ts";
import { fakeClock, startTestNode, tempDir, type TestNode } from "../_helpers.ts";
import { newKey } from "./_publisher.ts";

/** The fake clock's start, which origins publish against. */
export const T0: number = Date.UTC(2026, 10, 28, 12, 0, 0);

/** `n` file records (MD5 keys) numbered from `from`, with one verdict. */
export function fileRecords(n: number, verdict = "malicious", from = 0): object[] {
  const out = [];
  for (let i = from; i < from + n; i++) out.push({ type: "file", md5: md5Of(i), verdict });
  return out;
}

/** A deterministic MD5-shaped hex for record number `i`. */
export function md5Of(i: number): string {
  return ((i * 2654435761) >>> 0).toString(16).padStart(8, "0") + i.toString(16).padStart(24, "0");
}

/** Copies a feed tree (its folders and files) from `from` to `to`. */
export async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(join(from, entry.name), join(to, entry.name));
    else if (entry.isFile) await Deno.copyFile(join(from, entry.name), join(to, entry.name));
  }
}

/** How {@link TestOrigin.publish} builds a version; each has a default. */
export interface PublishOptions {
  now?: number;
  expiresSeconds?: number;
  snapshotEvery?: number;
  /** The timestamp key (the origin's own by default). */
  key?: SigningKey;
  /** The publisher state database (the origin's own by default). */
  state?: DatabaseSync;
}

/** A publishing origin: source database, publisher state, keys and the tree. */
export class TestOrigin implements AsyncDisposable {
  readonly tree: string;
  readonly source: DatabaseSync;
  readonly state: DatabaseSync;
  readonly key: SigningKey;
  readonly #dir: AsyncDisposable & { path: string };

  private constructor(
    dir: AsyncDisposable & { path: string },
    source: DatabaseSync,
    state: DatabaseSync,
    key: SigningKey,
  ) {
    this.#dir = dir;
    this.tree = join(dir.path, "tree");
    this.source = source;
    this.state = state;
    this.key = key;
  }

  /** A new origin with root version 1 (one key for both roles), valid for a year from {@link T0}. */
  static async create(): Promise<TestOrigin> {
    const dir = await tempDir();
    const log = memoryLogger();
    const source = await openStore(join(dir.path, "source"), { cacheMiB: 8, log });
    const state = await openStore(join(dir.path, "state"), { cacheMiB: 8, log });
    const key = await newKey();
    const origin = new TestOrigin(dir, source, state, key);
    await initRoot(origin.tree, {
      signers: [key],
      rootThreshold: 1,
      timestampRole: { keys: [key], threshold: 1 },
      expires: T0 + 365 * 86_400_000,
    });
    return origin;
  }

  /** A new origin that has published `records` as version 1. */
  static async atVersion1(records: object[], options: PublishOptions = {}): Promise<TestOrigin> {
    const origin = await TestOrigin.create();
    try {
      await origin.publishRecords(records, options);
    } catch (err) {
      await origin[Symbol.asyncDispose]();
      throw err;
    }
    return origin;
  }

  /** The trusted root a child ships with. */
  get rootPath(): string {
    return join(this.tree, "root.json");
  }

  /** Replaces the source's mirror rows with `records`. */
  async setRecords(records: object[]): Promise<void> {
    this.source.exec("DELETE FROM entry");
    const text = records.map((r) => JSON.stringify(r)).join("\n") + "\n";
    const report = await importRecords(
      this.source,
      readLines(ReadableStream.from([new TextEncoder().encode(text)])),
      { format: "ndjson", origin: ORIGIN_MIRROR, source: "origin" },
    );
    assert.ok(report.committed, JSON.stringify(report.errors));
  }

  /** Publishes the next version. */
  publish(options: PublishOptions = {}): Promise<BuildReport> {
    return buildVersion({
      out: this.tree,
      state: options.state ?? this.state,
      source: this.source,
      timestampKeys: [options.key ?? this.key],
      now: options.now ?? T0,
      snapshotEvery: options.snapshotEvery ?? 10,
      deltaRetentionSeconds: 7 * 86_400,
      expiresSeconds: options.expiresSeconds ?? 86_400,
      minPollSeconds: 0,
    });
  }

  /** Replaces the source's mirror rows with `records` and publishes them as the next version. */
  async publishRecords(records: object[], options: PublishOptions = {}): Promise<BuildReport> {
    await this.setRecords(records);
    return await this.publish(options);
  }

  /** Rotates the root to the next version: signed by `previous`, with `next` for both roles. */
  async rotateRoot(previous: SigningKey, next: SigningKey): Promise<void> {
    await rotateRoot(this.tree, {
      oldSigners: [previous],
      newSigners: [next],
      rootThreshold: 1,
      timestampRole: { keys: [next], threshold: 1 },
      expires: T0 + 365 * 86_400_000,
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.source.close();
    this.state.close();
    await this.#dir[Symbol.asyncDispose]();
  }
}

/** Lets a test answer a request itself; undefined means "serve the file". */
export type Tamper = (name: string, request: Request) => Response | Promise<Response> | undefined;

/** A plain static file server for a feed tree on 127.0.0.1, with Range support. */
export class FeedServer implements AsyncDisposable {
  readonly url: string;
  /** Every request: the file name and its Range header. */
  readonly requests: { name: string; range: string | null }[] = [];
  tamper: Tamper | undefined;
  readonly #server: Deno.HttpServer;

  constructor(dir: string) {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        const name = decodeURIComponent(new URL(req.url).pathname.slice(1));
        this.requests.push({ name, range: req.headers.get("Range") });
        const tampered = await this.tamper?.(name, req);
        if (tampered) return tampered;
        return await serveFile(join(dir, name), req);
      },
    );
    this.url = `http://127.0.0.1:${(this.#server.addr as Deno.NetAddr).port}/`;
  }

  /** How many times `name` was asked for. */
  count(name: string | RegExp): number {
    return this.requests.filter((r) => nameMatches(r.name, name)).length;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#server.shutdown();
  }
}

/** Whether a feed file's name is `pattern` (a string) or matches it (a RegExp). */
export function nameMatches(name: string, pattern: string | RegExp): boolean {
  return typeof pattern === "string" ? name === pattern : pattern.test(name);
}

/** Serves one file as a plain web server would (200 or 206, 404, 416). */
export async function serveFile(path: string, req: Request): Promise<Response> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    return new Response("not found", { status: 404 });
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.get("Range") ?? "");
  if (range) {
    const start = Number(range[1]);
    if (start >= bytes.length) return new Response(null, { status: 416 });
    return new Response(bytes.subarray(start), {
      status: 206,
      headers: { "Content-Range": `bytes ${start}-${bytes.length - 1}/${bytes.length}` },
    });
  }
  return new Response(bytes);
}

/** A node that follows the feed at `url`; it only syncs when the test calls `runOnce`. */
export function startChild(
  url: string,
  rootPath: string,
  sync: Partial<Config["sync"]> = {},
  options: { clock?: ReturnType<typeof fakeClock>; auth?: boolean } = {},
): Promise<TestNode> {
  return startTestNode({
    clock: options.clock ?? fakeClock(T0),
    config: {
      auth: { required: options.auth ?? false },
      sync: {
        url,
        root: rootPath,
        firstPollMaxSeconds: 3600,
        intervalSeconds: 3600,
        ...sync,
      },
    },
  });
}

/** The sync service of a started child. */
export function syncOf(node: TestNode): NonNullable<TestNode["serving"]["sync"]> {
  const sync = node.serving.sync;
  assert.ok(sync, "the node follows a feed");
  return sync;
}

/** Looks a file hash up over HTTP and returns the verdict (and the stale flag). */
export async function verdictOf(
  node: TestNode,
  md5: string,
): Promise<{ verdict: string; stale?: boolean }> {
  const response = await fetch(`${node.url}/v1/files/${md5}`);
  assert.equal(response.status, 200);
  return await response.json();
}

/** Registers a licence on `node`, valid for a year from {@link T0}, and returns its key. */
export async function addLicence(node: TestNode, customer = "Example Customer"): Promise<string> {
  const { key } = node.serving.node.licences.add(
    { customer, expires: T0 / 1000 + 365 * 86_400 },
    "test",
  );
  await node.serving.node.refreshIfChanged();
  return key;
}

/** An origin at version 1, its file server and a child that follows it. */
export interface Following extends AsyncDisposable {
  origin: TestOrigin;
  server: FeedServer;
  child: TestNode;
}

/** Publishes `records` as version 1, serves the tree and starts a child that follows it (not synced yet). */
export async function startFollowing(
  records: object[] = fileRecords(200),
  sync: Partial<Config["sync"]> = {},
  options: Parameters<typeof startChild>[3] = {},
): Promise<Following> {
  await using stack = new AsyncDisposableStack();
  const origin = stack.use(await TestOrigin.atVersion1(records));
  const server = stack.use(new FeedServer(origin.tree));
  const child = stack.use(await startChild(server.url, origin.rootPath, sync, options));
  const owned = stack.move();
  return { origin, server, child, [Symbol.asyncDispose]: () => owned.disposeAsync() };
}

/**
 * Three tiers: an origin at version 1, a core synced from its file server that
 * serves its copy of the feed to anyone (no licence needed), and an edge that
 * follows the core.
 */
export interface ThreeTiers extends AsyncDisposable {
  origin: TestOrigin;
  server: FeedServer;
  core: TestNode;
  /** Not synced yet. */
  edge: TestNode;
}

/** Publishes `records` as version 1 and starts a core (synced to it) and an edge below it. */
export async function startThreeTiers(records: object[]): Promise<ThreeTiers> {
  await using stack = new AsyncDisposableStack();
  const origin = stack.use(await TestOrigin.atVersion1(records));
  const server = stack.use(new FeedServer(origin.tree));
  const core = stack.use(
    await startChild(server.url, origin.rootPath, { serveFeed: true, feedRequiresLicence: false }),
  );
  await syncOf(core).runOnce();
  const edge = stack.use(await startChild(`${core.url}/feed/`, origin.rootPath));
  const owned = stack.move();
  return { origin, server, core, edge, [Symbol.asyncDispose]: () => owned.disposeAsync() };
}
