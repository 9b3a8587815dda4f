/** One node with DNS on for a test file: listed objects, overrides, and `dig` to ask it. */
import { importRecords } from "../../src/feeds/mod.ts";
import { LocalOverrides } from "../../src/reputation/mod.ts";
import { ORIGIN_MIRROR } from "../../src/store/mod.ts";
import type { NumberedLine } from "../../src/core/mod.ts";
import { fakeClock, runTool, startTestNode, type TestNode } from "../_helpers.ts";

/** EICAR's digests: one listed file. */
export const EICAR = {
  md5: "44d88612fea8a8f36de82e1278abb02f",
  sha1: "3395856ce81f2b7382dee72602f798b642f14140",
  sha256: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
};

/** The mirror's records every DNS test file starts from. */
export const RECORDS: unknown[] = [
  {
    type: "file",
    ...EICAR,
    verdict: "malicious",
    threat: "EICAR-Test-File",
    lastSeen: "2026-11-01T00:00:00Z",
    ttl: 600,
  },
  { type: "ip", value: "198.51.100.7", verdict: "malicious" },
  { type: "ip", value: "203.0.113.0/24", verdict: "phishing" },
  { type: "ip", value: "2001:db8::/32", verdict: "malicious" },
  { type: "domain", value: "evil.example", verdict: "malicious", threat: "Botnet C2" },
  { type: "domain", value: "phish.example", verdict: "phishing" },
  { type: "domain", value: "grey.example", verdict: "suspicious" },
  { type: "domain", value: "fine.example", verdict: "clean" },
];

/** Starts a node with DNS (and the RPZ zone `rpz.test`) on a free port of 127.0.0.1. */
export async function startDnsNode(
  dns: Record<string, unknown> = {},
): Promise<TestNode & { port: number }> {
  const clock = fakeClock();
  const node = await startTestNode({
    clock,
    config: {
      dns: { listen: "127.0.0.1:0", zone: "pksn.test", rpzZone: "rpz.test", ...dns },
    },
  });
  try {
    const db = node.serving.node.db;
    const report = await importRecords(db, lines(RECORDS), {
      format: "ndjson",
      origin: ORIGIN_MIRROR,
      source: "test",
    });
    if (!report.committed) throw new Error(JSON.stringify(report.errors));
    // An allow-listed name under a listed domain: the override passes it.
    new LocalOverrides({ db, clock }).add(
      { type: "domain", value: "good.evil.example", verdict: "clean", reason: "ours" },
      "test",
    );
    await node.serving.node.refreshIndex();
    await node.serving.dns!.refresh();
    return Object.assign(node, { port: node.serving.dns!.port });
  } catch (err) {
    await node[Symbol.asyncDispose]();
    throw err;
  }
}

async function* lines(records: unknown[]): AsyncIterable<NumberedLine> {
  let number = 0;
  for (const r of records) yield { number: ++number, text: JSON.stringify(r) };
}

/** `dig` against the node: its output, the status and the answer lines. */
export async function dig(
  port: number,
  args: string[],
): Promise<
  { status: string; answers: string[]; authority: string[]; flags: string; text: string }
> {
  const out = await runTool("dig", [
    "@127.0.0.1",
    "-p",
    String(port),
    "+time=2",
    "+tries=1",
    "+nocookie",
    ...args,
  ]);
  const text = out.stdout + out.stderr;
  const status = /status: ([A-Z]+)/.exec(text)?.[1] ?? `none (exit ${out.code})`;
  const flags = /;; flags: ([a-z ]+);/.exec(text)?.[1] ?? "";
  const section = (name: string): string[] => {
    const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(text);
    return m ? m[1].split("\n").filter((l) => l.trim() !== "") : [];
  };
  return { status, answers: section("ANSWER"), authority: section("AUTHORITY"), flags, text };
}
