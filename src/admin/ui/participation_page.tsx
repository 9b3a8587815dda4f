/** @jsxImportSource hono/jsx */
/**
 * The node's own KSN participation, as the KSN settings form describes it: the statement text
 * in a dialog, accept or not, and the four modes with what each sends.
 */
import type { Child } from "hono/jsx";
import type { NodeParticipationState, Statement } from "../../licences/mod.ts";
import { ErrorLine, Shell, type ShellProps } from "./layout.tsx";

const MODES: readonly [mode: string, label: string, description: string][] = [
  [
    "do-not-participate",
    "Do not participate",
    "The node does not use KSN: no look-up, statistics or sample leaves it. Clients are answered " +
    "from the local mirror and overrides only.",
  ],
  [
    "with-statistics",
    "Participate with statistics",
    "Look-ups nothing here answers are asked of the parent (with the KSN proxy on), and clients' " +
    "anonymous statistics and samples are forwarded to it.",
  ],
  [
    "without-statistics",
    "Participate without statistics",
    "Look-ups may be asked of the parent, but statistics and samples stay on this node.",
  ],
  [
    "save-statistics-to-file",
    "Save statistics to file",
    "Nothing leaves the node; clients' statistics are kept in the local daily files and archives " +
    "only.",
  ],
];

/** The participation page. */
export function ParticipationPage(props: {
  state: Readonly<NodeParticipationState>;
  statement: Statement | undefined;
  session: ShellProps["session"];
}): Child {
  const { state, statement } = props;
  return (
    <Shell title="KSN participation" session={props.session} current="/admin/participation">
      <p>
        Current mode:{" "}
        <strong>{MODES.find(([m]) => m === state.mode)?.[1] ?? state.mode}</strong>. KSN Statement
        version {state.currentStatementVersion}: {state.statementAccepted
          ? <span class="good">accepted</span>
          : <span class="warn">not accepted</span>}.
      </p>
      <p>
        <button type="button" class="secondary" data-open-dialog="statement">
          Read the KSN Statement
        </button>
      </p>
      <dialog id="statement" aria-labelledby="statement-title">
        <h2 id="statement-title">KSN Statement, version {statement?.version ?? "–"}</h2>
        <pre>{statement?.text ?? "No statement is published."}</pre>
        <button type="button" data-close-dialog>Close</button>
      </dialog>
      <form class="stack" data-api="POST /admin/api/participation" data-then="reload">
        <fieldset>
          <legend>Participation mode</legend>
          {MODES.map(([mode, label, description]) => (
            <label class="choice">
              <input type="radio" name="mode" value={mode} checked={state.mode === mode} />
              <span>{label}</span>
              <small>{description}</small>
            </label>
          ))}
        </fieldset>
        <label class="choice">
          <input type="checkbox" name="acceptStatement" checked={false} />
          <span>
            I have read and accept the KSN Statement (version {state.currentStatementVersion})
          </span>
          <small>Needed for every mode but "Do not participate", unless already accepted.</small>
        </label>
        <button type="submit">Save participation</button>
        <ErrorLine />
      </form>
      <h2>Publish a new statement version</h2>
      <p class="note">
        Clients must accept the new version before their next look-up; the node's own acceptance is
        asked again too.
      </p>
      <form
        class="stack"
        data-api="POST /admin/api/statement"
        data-then="reload"
        data-confirm="Publish this text as a new KSN Statement version?"
      >
        <label>
          Statement text
          <textarea name="text" rows={8} required></textarea>
        </label>
        <button type="submit" class="secondary">Publish new version</button>
        <ErrorLine />
      </form>
    </Shell>
  );
}
