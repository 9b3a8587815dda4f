/** The audit log: who changed what, when. One writer for every part of the node. */
import type { DatabaseSync } from "node:sqlite";

/** An audit entry as stored; `detail` is JSON and never holds secrets. */
export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  licence_id: number | null;
  detail: string | null;
}

/** Appends an entry. Changes are rare, so the statement is prepared per call. */
export function appendAudit(
  db: DatabaseSync,
  entry: { at: number; actor: string; action: string; licenceId?: number | null; detail: unknown },
): void {
  db.prepare("INSERT INTO audit (at, actor, action, licence_id, detail) VALUES (?, ?, ?, ?, ?)")
    .run(
      entry.at,
      entry.actor,
      entry.action,
      entry.licenceId ?? null,
      JSON.stringify(entry.detail),
    );
}

/** The newest entries, newest first. */
export function readAudit(db: DatabaseSync, limit: number): AuditRow[] {
  return db.prepare("SELECT * FROM audit ORDER BY id DESC LIMIT ?").all(
    limit,
  ) as unknown as AuditRow[];
}
