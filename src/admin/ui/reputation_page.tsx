/** @jsxImportSource hono/jsx */
// Keys are React's reconciliation hint; hono/jsx renders once on the server and needs none.
// deno-lint-ignore-file jsx-key
/** Reputation: a look-up box for every object type, and the local overrides. */
import type { Child } from "hono/jsx";
import { ErrorLine, Shell, type ShellProps } from "./layout.tsx";

const TYPES = ["file", "url", "domain", "ip", "cert"] as const;
const VERDICTS = ["clean", "malicious", "phishing", "adware", "suspicious"] as const;

/** One local override as the page lists it. */
export interface OverrideLine {
  type: string;
  value: string;
  verdict: string;
  reason: string | null;
  createdBy: string | null;
  createdAt: string | null;
  expiresAt: string | null;
}

/** What the reputation page shows. */
export interface ReputationView {
  type: string;
  value: string;
  /** The look-up's full result, when a value was asked. */
  result: Record<string, unknown> | null;
  /** Why the value could not be looked up. */
  error: string | null;
  overrides: readonly OverrideLine[];
}

/** The reputation page. */
export function ReputationPage(
  props: { view: ReputationView; session: ShellProps["session"] },
): Child {
  const { view } = props;
  return (
    <Shell title="Reputation" session={props.session} current="/admin/reputation">
      <form class="inline" method="get" action="/admin/reputation" role="search">
        <label>
          Type
          <select name="type">
            {TYPES.map((t) => <option value={t} selected={view.type === t}>{t}</option>)}
          </select>
        </label>
        <label>
          Value to look up
          <input name="value" value={view.value} required />
        </label>
        <button type="submit">Look up</button>
      </form>
      {view.error ? <p role="alert" class="error">{view.error}</p> : null}
      {view.result
        ? (
          <section aria-labelledby="result">
            <h2 id="result">
              Verdict:{" "}
              <span
                class={view.result.verdict === "clean"
                  ? "good"
                  : view.result.verdict === "unknown"
                  ? ""
                  : "bad"}
              >
                {String(view.result.verdict)}
              </span>{" "}
              (via {String(view.result.via)})
            </h2>
            <pre class="result">{JSON.stringify(view.result, null, 2)}</pre>
          </section>
        )
        : null}
      <h2>Local overrides</h2>
      <p class="note">An override wins over the mirror and the KSN proxy for its object.</p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Object</th>
              <th scope="col">Verdict</th>
              <th scope="col">Reason</th>
              <th scope="col">By, when</th>
              <th scope="col">Expires</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {view.overrides.map((o) => (
              <tr>
                <td>
                  {o.type} <code>{o.value}</code>
                </td>
                <td>{o.verdict}</td>
                <td>{o.reason ?? ""}</td>
                <td>{o.createdBy ?? "import"}{o.createdAt ? `, ${o.createdAt}` : ""}</td>
                <td>{o.expiresAt ?? "never"}</td>
                <td>
                  <form
                    data-api="DELETE /admin/api/overrides"
                    data-then="reload"
                    data-confirm={`Remove the override of ${o.value}?`}
                  >
                    <input type="hidden" name="type" value={o.type} />
                    <input type="hidden" name="value" value={o.value} />
                    <button type="submit" class="danger">Remove override of {o.value}</button>
                    <ErrorLine />
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Add or change an override</h2>
      <form class="stack" data-api="POST /admin/api/overrides" data-then="reload">
        <label>
          Override type
          <select name="type">
            {TYPES.map((t) => <option value={t} selected={view.type === t}>{t}</option>)}
          </select>
        </label>
        <label>
          Override value
          <input name="value" required value={view.value} />
        </label>
        <label>
          Override verdict
          <select name="verdict">
            {VERDICTS.map((v) => (
              <option value={v}>{v === "clean" ? "clean (allow)" : `${v} (block)`}</option>
            ))}
          </select>
        </label>
        <label>
          Reason
          <input name="reason" required maxLength={500} />
        </label>
        <label>
          Expires (optional)
          <input name="expires" type="date" />
        </label>
        <button type="submit">Save override</button>
        <ErrorLine />
      </form>
      <h2>Import a list file</h2>
      <p class="note">One value a line; blank lines and lines starting with # are skipped.</p>
      <form
        class="inline"
        data-api="POST /admin/api/overrides/import?type={type}&verdict={verdict}&reason={reason}"
        data-then="reload"
      >
        <label>
          List type
          <select name="_type">{TYPES.map((t) => <option value={t}>{t}</option>)}</select>
        </label>
        <label>
          List verdict
          <select name="_verdict">{VERDICTS.map((v) => <option value={v}>{v}</option>)}</select>
        </label>
        <label>
          List reason
          <input name="_reason" required maxLength={500} />
        </label>
        <label>
          List file
          <input
            name="_file"
            type="file"
            accept=".txt,text/plain"
            data-upload="text/plain"
            required
          />
        </label>
        <button type="submit" class="secondary">Import list</button>
        <ErrorLine />
      </form>
    </Shell>
  );
}
