/** The audit log: who changed what, when. One writer for every part of the node. */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";

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

/** Which entries {@link readAudit} answers: each field given must match exactly. */
export interface AuditFilter {
  action?: string;
  actor?: string;
  licenceId?: number;
}

/** The newest entries that match `filter`, newest first. Asked rarely, so prepared per call. */
export function readAudit(db: DatabaseSync, limit: number, filter: AuditFilter = {}): AuditRow[] {
  const where: string[] = [];
  const values: SQLInputValue[] = [];
  if (filter.action !== undefined) {
    where.push("action = ?");
    values.push(filter.action);
  }
  if (filter.actor !== undefined) {
    where.push("actor = ?");
    values.push(filter.actor);
  }
  if (filter.licenceId !== undefined) {
    where.push("licence_id = ?");
    values.push(filter.licenceId);
  }
  const sql = `SELECT * FROM audit${
    where.length ? ` WHERE ${where.join(" AND ")}` : ""
  } ORDER BY id DESC LIMIT ?`;
  return db.prepare(sql).all(...values, limit) as unknown as AuditRow[];
}
