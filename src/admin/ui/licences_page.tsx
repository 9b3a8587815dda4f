/** @jsxImportSource hono/jsx */
// Keys are React's reconciliation hint; hono/jsx renders once on the server and needs none.
// deno-lint-ignore-file jsx-key
/**
 * Licences: search and filter, add (the key shown once, with a copy button), edit, rotate,
 * revoke, import a CSV file. Every action is a call of the admin API.
 */
import type { Child } from "hono/jsx";
import type { LicenceView } from "../../licences/mod.ts";
import { ErrorLine, intText, Shell, type ShellProps } from "./layout.tsx";

const CLIENT_MODES = ["with-statistics", "without-statistics", "save-statistics-to-file"];
const STATES = ["", "active", "expiring", "expired", "revoked"] as const;

/** The licences page for the licences already filtered by `q` and `state`. */
export function LicencesPage(props: {
  licences: readonly LicenceView[];
  /** Requests since start and the last one's time (ms), or null when none came. */
  usage: (id: number) => { requests: number; lastSeen: number } | null;
  q: string;
  state: string;
  session: ShellProps["session"];
}): Child {
  return (
    <Shell title="Licences" session={props.session} current="/admin/licences">
      <form class="inline" method="get" action="/admin/licences" role="search">
        <label>
          Search customer, notes or id
          <input name="q" value={props.q} type="search" />
        </label>
        <label>
          State
          <select name="state">
            {STATES.map((s) => <option value={s} selected={props.state === s}>{s || "any"}
            </option>)}
          </select>
        </label>
        <button type="submit" class="secondary">Filter</button>
      </form>
      <div class="table-wrap">
        <table>
          <caption class="note">
            {intText(props.licences.length)}{" "}
            {props.licences.length === 1 ? "licence" : "licences"}; requests are counted since the
            node started
          </caption>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Customer</th>
              <th scope="col">Status</th>
              <th scope="col">Valid through</th>
              <th scope="col">Quota</th>
              <th scope="col">Participation</th>
              <th scope="col">Requests, last seen</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {props.licences.map((l) => <LicenceRow l={l} usage={props.usage(l.id)} />)}
          </tbody>
        </table>
      </div>
      <h2>Add a licence</h2>
      <form
        class="stack"
        data-api="POST /admin/api/licences"
        data-then="show-key"
        data-key-output="new-key"
      >
        <label>
          Customer
          <input name="customer" required maxLength={200} />
        </label>
        <label>
          Expires (date)
          <input name="expires" type="date" required />
        </label>
        <label>
          Quota (requests a minute; empty for none)
          <input name="quota" type="number" min={1} />
        </label>
        <ModeChoices chosen={CLIENT_MODES} />
        <label>
          Notes
          <input name="notes" maxLength={500} />
        </label>
        <button type="submit">Add licence</button>
        <ErrorLine />
      </form>
      <div id="new-key" class="key-box" hidden role="status">
        <p>
          The new licence key, shown only now:{" "}
          <code id="new-key-text" data-key tabindex={-1}></code>
        </p>
        <div class="actions">
          <button type="button" data-copy="new-key-text">Copy key</button>
          <a href="/admin/licences">Show the list again</a>
        </div>
      </div>
      <h2>Import licences from CSV</h2>
      <p class="note">
        The format of <code>pksn license import</code>: a header row, then one licence a line.
      </p>
      <form class="inline" data-api="POST /admin/api/licences/import" data-then="reload">
        <label>
          CSV file
          <input name="_file" type="file" accept=".csv,text/csv" data-upload="text/csv" required />
        </label>
        <button type="submit" class="secondary">Import</button>
        <ErrorLine />
      </form>
    </Shell>
  );
}

function ModeChoices(props: { chosen: readonly string[] }): Child {
  return (
    <fieldset>
      <legend>Modes the client may choose (it may always choose none)</legend>
      {CLIENT_MODES.map((m) => (
        <label>
          <input
            type="checkbox"
            name="modes"
            value={m}
            data-list
            checked={props.chosen.includes(m)}
          />
          {m}
        </label>
      ))}
    </fieldset>
  );
}

/** The last day a licence is valid: it ends at the start of the day after. */
function lastDay(expires: string): string {
  return new Date(Date.parse(expires) - 1000).toISOString().slice(0, 10);
}

function LicenceRow(props: {
  l: LicenceView;
  usage: { requests: number; lastSeen: number } | null;
}): Child {
  const { l, usage } = props;
  const id = String(l.id);
  return (
    <tr>
      <td>{id}</td>
      <td>
        {l.customer}
        {l.notes ? <div class="note">{l.notes}</div> : null}
      </td>
      <td class={l.status === "active" ? "good" : l.status === "revoked" ? "bad" : "warn"}>
        {l.status}
        {l.replacedBy ? <div class="note">rotated to {l.replacedBy}</div> : null}
      </td>
      <td>{lastDay(l.expires)}</td>
      <td>{l.quota === null ? "none" : intText(l.quota)}</td>
      <td>{l.participation?.mode ?? "not chosen"}</td>
      <td>
        {usage === null
          ? "none"
          : `${intText(usage.requests)}, ${new Date(usage.lastSeen).toISOString().slice(0, 19)}Z`}
      </td>
      <td>
        {l.status === "revoked" ? null : (
          <details>
            <summary>Manage licence {id}</summary>
            <form class="stack" data-api="PATCH /admin/api/licences/{id}" data-then="reload">
              <input type="hidden" name="_id" value={id} />
              <label>
                Valid through
                <input name="expires" type="date" value={lastDay(l.expires)} />
              </label>
              <label>
                Quota (requests a minute; empty for none)
                <input
                  name="quota"
                  type="number"
                  min={1}
                  value={l.quota === null ? "" : String(l.quota)}
                  data-keep-empty
                />
              </label>
              <ModeChoices chosen={l.modes} />
              <label>
                Notes
                <input name="notes" value={l.notes ?? ""} maxLength={500} data-keep-empty />
              </label>
              <button type="submit" class="secondary">Save licence {id}</button>
              <ErrorLine />
            </form>
            <form
              class="inline"
              data-api="POST /admin/api/licences/{id}/rotate"
              data-then="show-key"
              data-key-output="new-key"
            >
              <input type="hidden" name="_id" value={id} />
              <label>
                Old key valid for (hours)
                <input name="graceHours" type="number" min={0} max={720} value="24" />
              </label>
              <button type="submit" class="secondary">Rotate key of licence {id}</button>
              <ErrorLine />
            </form>
            <form
              class="inline"
              data-api="POST /admin/api/licences/{id}/revoke"
              data-then="reload"
              data-confirm={`Revoke licence ${id} of ${l.customer}?`}
            >
              <input type="hidden" name="_id" value={id} />
              <label>
                Reason
                <input name="reason" maxLength={500} />
              </label>
              <button type="submit" class="danger">Revoke licence {id}</button>
              <ErrorLine />
            </form>
          </details>
        )}
      </td>
    </tr>
  );
}
