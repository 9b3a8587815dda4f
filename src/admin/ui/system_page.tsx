/** @jsxImportSource hono/jsx */
/**
 * The system page: what this program is (the `pksn --version` report) and, on the appliance,
 * its upgrade: the status the appliance's `pksn-upgrade` reports, and the form that uploads a
 * new version's bundle.
 */
import type { Child } from "hono/jsx";
import type { UpgradeReport } from "../../upgrade/mod.ts";
import { ErrorLine, Shell, type ShellProps } from "./layout.tsx";

/** What the page shows. */
export interface SystemView {
  /** `pksn --version`'s lines. */
  version: string;
  /** The upgrade's report; null when the node takes no upgrades (not the appliance image). */
  upgrade: UpgradeReport | null;
}

const STATE_CLASS: Readonly<Record<string, string>> = {
  committed: "good",
  failed: "bad",
  "rolled-back": "bad",
};

/** The system page. */
export function SystemPage(props: { view: SystemView; session: ShellProps["session"] }): Child {
  const { upgrade } = props.view;
  const busy = upgrade !== null && !upgrade.acceptsUpload;
  return (
    <Shell
      title="System"
      session={props.session}
      current="/admin/system"
      refreshSeconds={busy ? 10 : undefined}
    >
      <h2>Version</h2>
      <pre class="result">{props.view.version}</pre>
      <h2>Upgrade</h2>
      {upgrade === null
        ? (
          <p class="note">
            Upgrades from this page are for the appliance image, whose configuration sets{" "}
            <code>upgrade.enabled</code>. Elsewhere, install the new version as you installed this
            one.
          </p>
        )
        : <UpgradeSection upgrade={upgrade} />}
    </Shell>
  );
}

function UpgradeSection(props: { upgrade: UpgradeReport }): Child {
  const { status, problem, acceptsUpload } = props.upgrade;
  return (
    <>
      {status === null ? <p class="note">No upgrade has run on this node.</p> : (
        <dl>
          <dt>State</dt>
          <dd class={STATE_CLASS[status.state] ?? ""}>{status.state}</dd>
          <dt>Message</dt>
          <dd>{status.message}</dd>
          <dt>Since (UTC)</dt>
          <dd>{status.at}</dd>
          {status.from !== null || status.to !== null
            ? (
              <>
                <dt>Versions</dt>
                <dd>{`${status.from ?? "?"} → ${status.to ?? "?"}`}</dd>
              </>
            )
            : null}
          {status.slot !== null
            ? (
              <>
                <dt>Root slot</dt>
                <dd>{status.slot}</dd>
              </>
            )
            : null}
        </dl>
      )}
      {problem === null ? null : <p class="error" role="status">{problem}</p>}
      {acceptsUpload
        ? (
          <form class="inline" data-api="POST /admin/api/upgrade" data-then="reload">
            <label>
              Upgrade bundle (made by scripts/build-image)
              <input
                name="_file"
                type="file"
                data-upload="application/octet-stream"
                required
              />
            </label>
            <button type="submit" class="secondary">Upload and upgrade</button>
            <ErrorLine />
            <p class="note">
              The appliance checks the bundle's signature, writes it into the other root slot and
              restarts into it; if the new version does not become ready, it goes back to this one.
            </p>
          </form>
        )
        : (
          <p class="note">
            An upgrade is under way; this page refreshes itself every 10 seconds.
          </p>
        )}
    </>
  );
}
