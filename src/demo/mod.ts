/**
 * The demo data set that `task start` seeds into an empty node: a few clearly
 * labelled records (source "demo", category "demo", reserved `.example` names,
 * documentation IP ranges, the EICAR test file) so the first `curl` has an answer.
 */
// Imported as text, so every form of the program (run, compiled, bundled) carries the data.
import DEMO_MIRROR from "./demo.ndjson" with { type: "text" };
import DEMO_OVERRIDES from "./demo_overrides.ndjson" with { type: "text" };
import {
  type DatabaseSync,
  hasEntries,
  hasMeta,
  ORIGIN_LOCAL,
  ORIGIN_MIRROR,
  writeMeta,
} from "../store/mod.ts";
import { importRecords } from "../feeds/mod.ts";
import { AppError, readLines } from "../core/mod.ts";
import type { ClientLicence } from "../licences/mod.ts";
import type { Node } from "../node/mod.ts";

/** A look-up that the demo data answers, for the ready-to-paste curl. */
export const DEMO_LOOKUP = "/v1/files/44d88612fea8a8f36de82e1278abb02f";

/**
 * The demo licence key. It is public (it is in this file and the README), so a
 * node started with `--demo` must never face untrusted clients.
 */
export const DEMO_KEY = "DEMO-KEY-NOT-FOR-PRODUCTION";
const DEMO_CUSTOMER = "Demo customer (created by --demo; revoke before production use)";

const DEMO_MARK = "demo_seeded_at";

/** Seeds the demo data if the database holds no entries yet; returns whether it did. */
export async function seedDemo(db: DatabaseSync, now: number): Promise<boolean> {
  if (hasEntries(db)) return false;
  const sets = [
    ["demo.ndjson", DEMO_MIRROR, ORIGIN_MIRROR],
    ["demo_overrides.ndjson", DEMO_OVERRIDES, ORIGIN_LOCAL],
  ] as const;
  for (const [file, text, origin] of sets) {
    const bytes = new TextEncoder().encode(text);
    const report = await importRecords(db, readLines(ReadableStream.from([bytes])), {
      format: "ndjson",
      origin,
      source: "demo",
    });
    if (!report.committed) {
      throw new Error(`Demo data ${file} is invalid: ${JSON.stringify(report.errors)}`);
    }
  }
  writeMeta(db, DEMO_MARK, new Date(now).toISOString());
  return true;
}

/**
 * Makes sure the demo licence exists and has accepted the current KSN Statement,
 * so the printed curl works. Returns false if the operator revoked it or let it
 * expire (then it is left alone).
 */
export function ensureDemoLicence(node: Node, now: number): boolean {
  let licence: ClientLicence;
  try {
    licence = node.auth.authenticate(new Headers({ "x-license-key": DEMO_KEY }));
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== "license_unknown") return false;
    node.licences.add({
      customer: DEMO_CUSTOMER,
      key: DEMO_KEY,
      expires: Math.floor(now / 1000) + 10 * 365 * 86400,
      notes: "Public demo key; see README",
    }, "demo");
    node.auth.invalidate();
    licence = node.auth.authenticate(new Headers({ "x-license-key": DEMO_KEY }));
  }
  if (licence.mode === null || licence.statementVersion !== node.participation.statementVersion) {
    node.auth.choose(licence, "without-statistics", node.participation.statementVersion);
  }
  return true;
}

/** Whether this database was seeded with the demo data. */
export function isDemo(db: DatabaseSync): boolean {
  return hasMeta(db, DEMO_MARK);
}

/** Whether the public demo key is registered and would be accepted now (not revoked or expired). */
export function demoKeyWorks(node: Pick<Node, "auth">): boolean {
  try {
    node.auth.authenticate(new Headers({ "x-license-key": DEMO_KEY }), { quota: false });
    return true;
  } catch (err) {
    if (err instanceof AppError) return false;
    throw err;
  }
}
