/** @jsxImportSource hono/jsx */
// Keys are React's reconciliation hint; hono/jsx renders once on the server and needs none.
// deno-lint-ignore-file jsx-key
/** The read-mostly pages: statistics days, the audit log, the mirror sync. */
import type { Child } from "hono/jsx";
import type { DayCounts, DayListing } from "../../stats/mod.ts";
import type { SampleListing } from "../../samples/mod.ts";
import { bytesText, ErrorLine, intText, Shell, type ShellProps } from "./layout.tsx";

/** The samples the quarantine keeps, as the statistics page shows them. */
export interface SamplesView {
  count: number;
  bytes: number;
  samples: readonly SampleListing[];
  /** Whether a parent node is configured (a sample not queued then has been sent). */
  parent: boolean;
}

/** Statistics: every day with its count, one day's top threats, archives; the samples kept. */
export function StatisticsPage(props: {
  days: readonly DayListing[];
  day: DayCounts | null;
  samples: SamplesView | null;
  session: ShellProps["session"];
}): Child {
  return (
    <Shell title="Statistics and samples" session={props.session} current="/admin/statistics">
      {props.days.length === 0 ? <p class="note">No statistics yet.</p> : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                <th scope="col">Records</th>
                <th scope="col">Size</th>
                <th scope="col">Archive</th>
              </tr>
            </thead>
            <tbody>
              {props.days.map((d) => (
                <tr>
                  <td>
                    <a href={`/admin/statistics?day=${d.date}`}>{d.date}</a>
                  </td>
                  <td>{intText(d.records)}</td>
                  <td>{bytesText(d.bytes)}</td>
                  <td>
                    {d.archived
                      ? (
                        <a href={`/admin/api/stats/${d.date}/archive`} download>
                          Download {d.date}.tar
                        </a>
                      )
                      : <span class="note">packed after midnight (UTC)</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.day ? <DayDetail day={props.day} /> : null}
      {props.samples ? <Samples view={props.samples} /> : null}
    </Shell>
  );
}

function Samples(props: { view: SamplesView }): Child {
  const { view } = props;
  return (
    <section aria-labelledby="samples">
      <h2 id="samples">Samples</h2>
      <p>
        {intText(view.count)} kept in the quarantine, {bytesText(view.bytes)}
        {view.count > view.samples.length ? `; the newest ${view.samples.length} are listed` : ""}.
      </p>
      {view.samples.length === 0 ? null : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">SHA-256</th>
                <th scope="col">Size</th>
                <th scope="col">Received (UTC)</th>
                <th scope="col">Detection</th>
                <th scope="col">Forwarding</th>
              </tr>
            </thead>
            <tbody>
              {view.samples.map((s) => (
                <tr>
                  <td>
                    <code>{s.sha256}</code>
                  </td>
                  <td>{bytesText(s.size)}</td>
                  <td>{s.receivedAt}</td>
                  <td>{s.detection ?? ""}{s.extension ? ` (.${s.extension})` : ""}</td>
                  <td>
                    {s.queued
                      ? `waiting for the parent${s.attempts ? `, ${s.attempts} attempts` : ""}${
                        s.lastError ? `: ${s.lastError}` : ""
                      }`
                      : view.parent
                      ? "sent"
                      : "kept here (no parent)"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function DayDetail(props: { day: DayCounts }): Child {
  const { day } = props;
  const threats = Object.entries(day.threats).slice(0, 20);
  return (
    <section aria-labelledby="day">
      <h2 id="day">{day.date}: {intText(day.records)} records</h2>
      <p>
        {Object.entries(day.verdicts).map(([v, n]) => `${v} ${intText(n)}`).join(", ") ||
          "No verdicts."}
      </p>
      <h3>Top threats</h3>
      {threats.length === 0 ? <p class="note">None.</p> : (
        <ol>
          {threats.map(([name, n]) => <li>{name}: {intText(n)}</li>)}
        </ol>
      )}
    </section>
  );
}

/** One audit entry as the page lists it. */
export interface AuditLine {
  at: string;
  actor: string;
  action: string;
  licenceId: number | null;
  detail: unknown;
}

/** The audit log, newest first, with its filters. */
export function AuditPage(props: {
  entries: readonly AuditLine[];
  filter: { action: string; actor: string };
  session: ShellProps["session"];
}): Child {
  return (
    <Shell title="Audit log" session={props.session} current="/admin/audit">
      <form class="inline" method="get" action="/admin/audit" role="search">
        <label>
          Action
          <input name="action" value={props.filter.action} placeholder="licence.revoke" />
        </label>
        <label>
          Actor
          <input name="actor" value={props.filter.actor} placeholder="admin:alice" />
        </label>
        <button type="submit" class="secondary">Filter</button>
      </form>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">When (UTC)</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Licence</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {props.entries.map((e) => (
              <tr>
                <td>{e.at}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td>{e.licenceId ?? ""}</td>
                <td>
                  <code>{e.detail === null ? "" : JSON.stringify(e.detail)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Shell>
  );
}

/** What the sync page shows of a following node. */
export interface SyncView {
  url: string | null;
  root: string | null;
  intervalSeconds: number;
  report: Record<string, unknown> | null;
  /** The last runs, newest first. */
  runs: readonly { at: string; outcome: string; from?: number; to?: number; error?: string }[];
}

/** The mirror sync: the feed, its schedule and state, "sync now", and bundle uploads. */
export function SyncPage(props: { sync: SyncView; session: ShellProps["session"] }): Child {
  const { sync } = props;
  return (
    <Shell title="Mirror sync" session={props.session} current="/admin/sync">
      {sync.url === null
        ? (
          <p class="note">
            This node follows no feed over the network: set <code>sync.url</code> and{" "}
            <code>sync.root</code>{" "}
            in its configuration (see the README's "Mirror sync"), or apply offline bundles below.
          </p>
        )
        : (
          <>
            <dl>
              <dt>Feed</dt>
              <dd>
                <code>{sync.url}</code>
              </dd>
              <dt>Schedule</dt>
              <dd>every {intText(sync.intervalSeconds)} s</dd>
            </dl>
            <h2>State</h2>
            <pre class="result">{JSON.stringify(sync.report, null, 2)}</pre>
            <form data-api="POST /admin/api/sync" data-then="reload">
              <button type="submit">Sync now</button>
              <ErrorLine />
            </form>
            <h2>Recent runs</h2>
            {sync.runs.length === 0
              ? <p class="note">No run since the node started.</p>
              : (
                <div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Started (UTC)</th>
                        <th scope="col">Outcome</th>
                        <th scope="col">Versions</th>
                        <th scope="col">Error</th>
                      </tr>
                    </thead>
                    <tbody>
                      {sync.runs.map((r) => (
                        <tr>
                          <td>{r.at}</td>
                          <td class={r.outcome === "failed" ? "bad" : "good"}>{r.outcome}</td>
                          <td>{r.from === undefined ? "" : `${r.from} → ${r.to}`}</td>
                          <td>{r.error ?? ""}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
          </>
        )}
      <h2>Offline bundle</h2>
      {sync.root === null
        ? (
          <p class="note">
            Set <code>sync.root</code>{" "}
            (the feed's trusted root.json) to apply bundles: every bundle is verified against it.
          </p>
        )
        : (
          <>
            <p>
              Trusted root: <code>{sync.root}</code>. A bundle made by <code>pksn feed export</code>
              {" "}
              is verified exactly as a network sync.
            </p>
            <form class="inline" data-api="POST /admin/api/sync/bundle" data-then="reload">
              <label>
                Bundle file (.tar)
                <input
                  name="_file"
                  type="file"
                  accept=".tar,application/x-tar"
                  data-upload="application/x-tar"
                  required
                />
              </label>
              <button type="submit" class="secondary">Upload and apply</button>
              <ErrorLine />
            </form>
          </>
        )}
    </Shell>
  );
}
