/** @jsxImportSource hono/jsx */
/** The dashboard: traffic, verdicts, mirror, upstream, licences, statistics and disk at a glance. */
import type { Child } from "hono/jsx";
import { BarChart } from "./chart.tsx";
import type { DashboardFigures } from "./dashboard_data.ts";
import { bytesText, intText, Shell, type ShellProps } from "./layout.tsx";

const VERDICT_COLOURS: Record<string, string> = {
  unknown: "#6b7480",
  clean: "#1b6e2d",
  malicious: "#a4161a",
  phishing: "#7a1fa2",
  adware: "#8a5a00",
  suspicious: "#c2410c",
};

/** The dashboard page; it refreshes its own content every 30 seconds. */
export function DashboardPage(
  props: { f: DashboardFigures; session: ShellProps["session"] },
): Child {
  const { f } = props;
  const lastHour = f.lookupsPerMinute.slice(-60);
  const verdictTotal = Object.values(f.verdicts).reduce((a, b) => a + b, 0);
  return (
    <Shell title="Dashboard" session={props.session} current="/admin/" refreshSeconds={30}>
      <section aria-labelledby="traffic">
        <h2 id="traffic">Look-ups</h2>
        <BarChart
          label="Look-ups per minute, last hour"
          values={lastHour}
          per={1}
          unit="per minute"
          startLabel="60 min ago"
        />
        <BarChart
          label="Look-ups per minute, last day (10-minute averages)"
          values={f.lookupsPerMinute}
          per={10}
          unit="per minute"
          startLabel="24 h ago"
        />
      </section>
      <div class="cards">
        <section class="card" aria-labelledby="verdicts">
          <h2 id="verdicts">Verdict mix since start</h2>
          {verdictTotal === 0 ? <p class="note">No look-ups yet.</p> : (
            <ul>
              {Object.entries(f.verdicts).filter(([, n]) => n > 0).map(([verdict, n]) => (
                <li>
                  <svg width="12" height="12" aria-hidden="true">
                    <rect width="12" height="12" fill={VERDICT_COLOURS[verdict] ?? "#333"} />
                  </svg>{" "}
                  {verdict}: {intText(n)} ({((n / verdictTotal) * 100).toFixed(1)}%)
                </li>
              ))}
            </ul>
          )}
        </section>
        <section class="card" aria-labelledby="mirror">
          <h2 id="mirror">Mirror</h2>
          <p class="figure">{intText(f.mirror.records)} keys</p>
          {f.sync
            ? (
              <p>
                Version {f.sync.version} of {f.sync.upstreamVersion}:{" "}
                <span class={`state-${f.sync.state}`}>{f.sync.state}</span>
                {f.sync.lastSuccess ? `, last synced ${f.sync.lastSuccess}` : ", never synced"}
                {f.sync.lastError ? <span class="bad">Last error: {f.sync.lastError}</span> : null}
              </p>
            )
            : (
              <p class="note">
                Not following a feed (sync.url is not set). Index built {f.mirror.builtAt}.
              </p>
            )}
        </section>
        <section class="card" aria-labelledby="proxy">
          <h2 id="proxy">KSN proxy</h2>
          {f.proxy
            ? (
              <p>
                <span class="figure">
                  {f.proxy.hitRatio === null ? "–" : `${(f.proxy.hitRatio * 100).toFixed(1)}%`}
                </span>{" "}
                cache hits; {intText(f.proxy.entries)} answers cached
              </p>
            )
            : <p class="note">Off (proxy.enabled is false).</p>}
        </section>
        <section class="card" aria-labelledby="upstream">
          <h2 id="upstream">Upstream and forwarding</h2>
          {f.upstream
            ? (
              <p>
                {f.upstream.url}: {intText(f.upstream.spoolEntries)}{" "}
                batches waiting ({bytesText(f.upstream.spoolBytes)})
                {f.upstream.lastError
                  ? <span class="bad">Last error: {f.upstream.lastError}</span>
                  : <span class="good">No errors.</span>}
              </p>
            )
            : <p class="note">No parent node (upstream.url is not set).</p>}
        </section>
        <section class="card" aria-labelledby="licences">
          <h2 id="licences">Licences</h2>
          <p class="figure">{intText(f.licences.active)} active</p>
          <p>
            {f.licences.expiringSoon > 0
              ? <span class="warn">{intText(f.licences.expiringSoon)} expire within 30 days.</span>
              : null}
            {intText(f.licences.expired)} expired, {intText(f.licences.revoked)} revoked.{" "}
            <a href="/admin/licences?state=expiring">Expiring licences</a>
          </p>
        </section>
        <section class="card" aria-labelledby="stats">
          <h2 id="stats">Statistics today</h2>
          <p class="figure">{intText(f.statisticsToday)} records</p>
          <a href="/admin/statistics">All days</a>
        </section>
        <section class="card" aria-labelledby="disk">
          <h2 id="disk">Disk use</h2>
          <ul>
            <li>Database: {bytesText(f.disk.database)}</li>
            <li>Statistics and archives: {bytesText(f.disk.archives)}</li>
            <li>Sample quarantine: {bytesText(f.disk.quarantine)}</li>
          </ul>
        </section>
      </div>
    </Shell>
  );
}
