/**
 * Plumbing for the forwarding and sample tests: a rig of spool, quarantine and
 * forwarder over a real database with a fake clock, and the fake parent.
 */
import type { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { ensureStatement, type NodeMode, NodeParticipation } from "../../src/licences/mod.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { Registry } from "../../src/core/metrics.ts";
import { openStore } from "../../src/node/node.ts";
import { HttpUpstream, type Upstream } from "../../src/upstream/mod.ts";
import { Forwarder, type Timers } from "../../src/upstream/forwarder.ts";
import { QuarantineFolder } from "../../src/samples/quarantine.ts";
import { SampleStore } from "../../src/samples/samples.ts";
import { Spool } from "../../src/store/spool.ts";
import { fakeClock, tempDir } from "../_helpers.ts";

/** The licence key the rig's forwarder presents to the fake parent. */
export const NODE_KEY = "PKSN-CHILD-NODE-KEY-0001";

export { type Arrival, FakeParent, type Misbehaviour, startFakeParent } from "./_fake_parent.ts";

/** Timers the test fires by hand. */
export class ManualTimers implements Timers {
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  #next = 1;
  setTimeout(fn: () => void, ms: number): number {
    const id = this.#next++;
    this.pending.set(id, { fn, ms });
    return id;
  }
  clearTimeout(id: unknown): void {
    this.pending.delete(id as number);
  }
  /** Runs every pending timer once. */
  fire(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const timer of due) timer.fn();
  }
}

/** A spool, quarantine and forwarder over a real database, with a fake clock. */
export interface Rig extends AsyncDisposable {
  dir: string;
  db: DatabaseSync;
  clock: ReturnType<typeof fakeClock>;
  log: ReturnType<typeof memoryLogger>;
  registry: Registry;
  participation: NodeParticipation;
  spool: Spool;
  samples: SampleStore;
  upstream: Upstream;
  timers: ManualTimers;
  forwarder: Forwarder;
  /** Closes the database and opens it again with new parts, as a restart would. */
  restart(): Promise<void>;
}

/** Options for {@link openRig}. */
export interface RigOptions {
  /** The node's participation mode (statement accepted); with-statistics unless given. */
  mode?: NodeMode;
  /** The parent's URL (for an {@link HttpUpstream}) or a fake upstream object. */
  upstream: string | Upstream;
  spoolMaxBytes?: number;
  quarantineMaxBytes?: number;
  intervalSeconds?: number;
}

/** Builds a rig in a temporary data folder. */
export async function openRig(options: RigOptions): Promise<Rig> {
  const dir = await tempDir();
  const clock = fakeClock();
  const log = memoryLogger();
  const build = async (): Promise<Omit<Rig, "restart" | typeof Symbol.asyncDispose>> => {
    const db = await openStore(dir.path, { cacheMiB: 8, log });
    await ensureStatement(db, clock.now());
    const participation = new NodeParticipation(db, clock);
    if (
      participation.state.mode === "do-not-participate" && options.mode !== "do-not-participate"
    ) {
      participation.set(options.mode ?? "with-statistics", {
        acceptStatement: true,
        actor: "test",
      });
    }
    const registry = new Registry();
    const spool = new Spool(db, {
      clock,
      log,
      maxBytes: options.spoolMaxBytes ?? 1024 * 1024,
      registry,
    });
    const samples = new SampleStore({
      db,
      folder: new QuarantineFolder(join(dir.path, "quarantine")),
      clock,
      log,
      maxSampleBytes: 1024 * 1024,
      maxTotalBytes: options.quarantineMaxBytes ?? 16 * 1024 * 1024,
      retentionDays: 30,
      spool,
    });
    const upstream = typeof options.upstream === "string"
      ? new HttpUpstream({ url: options.upstream, key: NODE_KEY, timeoutSeconds: 5 })
      : options.upstream;
    const timers = new ManualTimers();
    const forwarder = new Forwarder({
      spool,
      upstream,
      participation,
      samples,
      clock,
      log,
      intervalSeconds: options.intervalSeconds ?? 10,
      registry,
      timers,
      random: () => 0.5,
    });
    return {
      dir: dir.path,
      db,
      clock,
      log,
      registry,
      participation,
      spool,
      samples,
      upstream,
      timers,
      forwarder,
    };
  };
  const rig = Object.assign(await build(), {
    async restart(): Promise<void> {
      await rig.forwarder.stop();
      closeUpstream(rig.upstream);
      rig.db.close();
      Object.assign(rig, await build());
    },
    async [Symbol.asyncDispose](): Promise<void> {
      await rig.forwarder.stop();
      closeUpstream(rig.upstream);
      if (rig.db.isOpen) rig.db.close();
      await dir[Symbol.asyncDispose]();
    },
  }) as Rig;
  return rig;
}

function closeUpstream(upstream: Upstream): void {
  if (upstream instanceof HttpUpstream) upstream.close();
}

/** One NDJSON statistics batch with `n` records tagged `tag`. */
export function statisticsBatch(tag: string, n = 2): Uint8Array {
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ tag, i, lookups: i + 1 }));
  return new TextEncoder().encode(lines.join("\n") + "\n");
}

/** A byte stream of `bytes`, as a request body arrives. */
export function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return ReadableStream.from([bytes]);
}

/** Lower-case hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Moves the fake clock forward by `ms`. */
export function advance(rig: Rig, ms: number): void {
  rig.clock.set(rig.clock.now() + ms);
}
