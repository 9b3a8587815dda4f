/**
 * The node's own participation mode decides what may leave the node for the
 * upstream. There is no upstream client yet, so these tests pin the contract a
 * future one must follow: ask `NodeParticipation.allows(kind)` before sending.
 */
import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import {
  ensureStatement,
  NODE_MODES,
  type NodeMode,
  NodeParticipation,
  publishStatement,
  type UpstreamTraffic,
} from "../../src/licences/mod.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { openStore } from "../../src/node/node.ts";
import { fakeClock, runCli, tempDir } from "../_helpers.ts";
import { addLicence, bearer, request, startAuthNode } from "./_licences.ts";
import { statusOf } from "../../src/http/mod.ts";
import type { AppError } from "../../src/core/mod.ts";

/** What the upstream would be sent: one call per kind of traffic. */
interface Upstream {
  lookups(hashes: string[]): boolean;
  statistics(counts: Record<string, number>): boolean;
  samples(sha256: string): boolean;
}

/** A fake upstream that records every call that reached it. */
class RecordingUpstream implements Upstream {
  readonly calls: UpstreamTraffic[] = [];
  lookups(): boolean {
    this.calls.push("lookups");
    return true;
  }
  statistics(): boolean {
    this.calls.push("statistics");
    return true;
  }
  samples(): boolean {
    this.calls.push("samples");
    return true;
  }
}

/** The gate every upstream component must put in front of its sends. */
function gated(upstream: Upstream, participation: Pick<NodeParticipation, "allows">): Upstream {
  return {
    lookups: (hashes) => participation.allows("lookups") && upstream.lookups(hashes),
    statistics: (counts) => participation.allows("statistics") && upstream.statistics(counts),
    samples: (sha256) => participation.allows("samples") && upstream.samples(sha256),
  };
}

/** Offers one of each kind of traffic through the gate; returns what reached the upstream. */
function offerEverything(participation: Pick<NodeParticipation, "allows">): UpstreamTraffic[] {
  const upstream = new RecordingUpstream();
  const gate = gated(upstream, participation);
  gate.lookups(["44d88612fea8a8f36de82e1278abb02f"]);
  gate.statistics({ lookups: 12, malicious: 1 });
  gate.samples("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f");
  return upstream.calls;
}

/** A migrated database with the default statement (version 1) and its node participation. */
async function openParticipation(): Promise<
  { db: DatabaseSync; participation: NodeParticipation } & AsyncDisposable
> {
  const dir = await tempDir();
  const clock = fakeClock();
  const db = await openStore(dir.path, { cacheMiB: 8, log: memoryLogger() });
  await ensureStatement(db, clock.now());
  return {
    db,
    participation: new NodeParticipation(db, clock),
    async [Symbol.asyncDispose](): Promise<void> {
      db.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** Moves the node into `mode`, with the current statement accepted or only an older one. */
function enterMode(
  db: DatabaseSync,
  participation: NodeParticipation,
  mode: NodeMode,
  accepted: boolean,
): void {
  participation.set(mode, { acceptStatement: true, actor: "test" });
  if (!accepted) {
    publishStatement(db, `A newer statement than the one accepted for ${mode}`, Date.now());
    participation.reload();
  }
}

const ALL: UpstreamTraffic[] = ["lookups", "statistics", "samples"];

const ALLOWED: readonly [NodeMode, accepted: boolean, allowed: UpstreamTraffic[]][] = [
  ["do-not-participate", true, []],
  ["do-not-participate", false, []],
  ["with-statistics", true, ["lookups", "statistics", "samples"]],
  ["with-statistics", false, []],
  ["without-statistics", true, ["lookups"]],
  ["without-statistics", false, []],
  ["save-statistics-to-file", true, []],
  ["save-statistics-to-file", false, []],
];

for (const [mode, accepted, allowed] of ALLOWED) {
  const statement = accepted
    ? "with the current statement accepted"
    : "with only an older statement accepted";
  Deno.test(`node mode ${mode} ${statement} allows upstream: ${allowed.join(", ") || "nothing"}`, async () => {
    await using store = await openParticipation();
    enterMode(store.db, store.participation, mode, accepted);
    const allows = Object.fromEntries(ALL.map((t) => [t, store.participation.allows(t)]));
    assert.deepEqual(allows, Object.fromEntries(ALL.map((t) => [t, allowed.includes(t)])));
    assert.deepEqual(store.participation.state.upstream, allows);
  });
}

const GATED: readonly [NodeMode, UpstreamTraffic[]][] = [
  ["with-statistics", ["lookups", "statistics", "samples"]],
  ["without-statistics", ["lookups"]],
  ["save-statistics-to-file", []],
  ["do-not-participate", []],
];

for (const [mode, reaching] of GATED) {
  Deno.test(`in node mode ${mode} the gate lets ${reaching.join(", ") || "nothing"} reach the upstream`, async () => {
    await using store = await openParticipation();
    store.participation.set(mode, { acceptStatement: true, actor: "test" });
    assert.deepEqual(offerEverything(store.participation), reaching);
  });
}

Deno.test("a new node does not participate and lets nothing reach the upstream", async () => {
  await using store = await openParticipation();
  assert.equal(store.participation.state.mode, "do-not-participate");
  assert.equal(store.participation.state.statementAccepted, false);
  assert.deepEqual(offerEverything(store.participation), []);
});

Deno.test("a node mode other than do-not-participate is refused with 409 statement_not_accepted until the statement is accepted", async () => {
  await using store = await openParticipation();
  for (const mode of NODE_MODES.filter((m) => m !== "do-not-participate")) {
    assert.throws(
      () => store.participation.set(mode, { actor: "test" }),
      (err: unknown) => {
        const e = err as AppError;
        assert.equal(statusOf(e), 409);
        assert.equal(e.code, "statement_not_accepted");
        assert.match(e.message, /version 1/);
        return true;
      },
      mode,
    );
  }
  assert.equal(store.participation.state.mode, "do-not-participate", "nothing changed");
  assert.deepEqual(offerEverything(store.participation), []);
});

Deno.test("an unknown node mode is refused with 400 invalid_mode", async () => {
  await using store = await openParticipation();
  assert.throws(
    () => store.participation.set("everything", { acceptStatement: true, actor: "test" }),
    (err: unknown) => {
      const e = err as AppError;
      return statusOf(e) === 400 && e.code === "invalid_mode";
    },
  );
});

Deno.test("a new statement version makes the node's acceptance stale: nothing leaves until it is accepted again", async () => {
  await using store = await openParticipation();
  const { db, participation } = store;
  participation.set("with-statistics", { acceptStatement: true, actor: "test" });
  assert.deepEqual(offerEverything(participation), ["lookups", "statistics", "samples"]);

  publishStatement(db, "KSN Statement, second edition", Date.now());
  participation.reload();
  assert.equal(participation.state.mode, "with-statistics", "the mode itself is kept");
  assert.equal(participation.state.statementAccepted, false);
  assert.equal(participation.state.statementAcceptedVersion, 1);
  assert.equal(participation.state.currentStatementVersion, 2);
  assert.deepEqual(offerEverything(participation), []);

  assert.throws(() => participation.set("with-statistics", { actor: "test" }), /version 2/);
  participation.set("with-statistics", { acceptStatement: true, actor: "test" });
  assert.equal(participation.state.statementAcceptedVersion, 2);
  assert.deepEqual(offerEverything(participation), ["lookups", "statistics", "samples"]);
});

Deno.test("a running node's gate follows the mode the operator sets with the participation command", async () => {
  await using node = await startAuthNode();
  const participation = node.serving.node.participation;
  assert.deepEqual(offerEverything(participation), []);

  const set = await runCli([
    "participation",
    "set",
    "without-statistics",
    "--accept-statement",
    "--data",
    node.dataDir,
  ]);
  assert.equal(set.code, 0, set.stderr);
  assert.ok((await node.serving.node.refreshIfChanged()).includes("settings"));
  assert.deepEqual(offerEverything(participation), ["lookups"]);

  const key = await addLicence(node);
  const summary = await request(node, "/v1/node", { headers: bearer(key) });
  assert.equal(summary.status, 200, JSON.stringify(summary.body));
  assert.equal(summary.body.participation.mode, "without-statistics");
  assert.deepEqual(summary.body.participation.upstream, {
    lookups: true,
    statistics: false,
    samples: false,
  });
});

Deno.test("a statement published while the node runs stops its upstream traffic once the node reloads", async () => {
  await using node = await startAuthNode();
  const participation = node.serving.node.participation;
  participation.set("with-statistics", { acceptStatement: true, actor: "test" });
  assert.deepEqual(offerEverything(participation), ["lookups", "statistics", "samples"]);

  const file = `${node.dataDir}/statement-v2.txt`;
  await Deno.writeTextFile(file, "KSN Statement v2: samples are kept for 90 days\n");
  const loaded = await runCli(["statement", "load", file, "--data", node.dataDir]);
  assert.equal(loaded.code, 0, loaded.stderr);
  await node.serving.node.refreshIfChanged();
  assert.deepEqual(offerEverything(participation), []);
});
