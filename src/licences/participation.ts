/**
 * Participation: the node's own mode (the operator's setting) and each client's
 * choice. `NodeParticipation.allows` is the one place every upstream component
 * asks before anything leaves the node.
 */
import { AppError, type Clock, InvalidInputError, quote } from "../core/mod.ts";
import {
  appendAudit,
  bumpGeneration,
  type DatabaseSync,
  getSetting,
  setSetting,
  transaction,
} from "../store/mod.ts";
import { NODE_MODES, type NodeMode, UPSTREAM_ALLOWED, type UpstreamTraffic } from "./modes.ts";
import { readStatement, type Statement } from "./statement.ts";

/** The node's participation as `participation show` and `GET /v1/node` report it. */
export interface NodeParticipationState {
  mode: NodeMode;
  statementAccepted: boolean;
  statementAcceptedVersion: number | null;
  currentStatementVersion: number;
  upstream: Record<UpstreamTraffic, boolean>;
}

const MODE_SETTING = "node.participation";
const ACCEPTED_SETTING = "node.statement_accepted_version";

/**
 * The node's own participation, cached in memory and re-read when another
 * process changes the settings. The default is "do-not-participate": nothing
 * leaves the node until the operator says so.
 */
export class NodeParticipation {
  readonly #db: DatabaseSync;
  readonly #clock: Clock;
  #state!: NodeParticipationState;
  #statement: Statement | undefined;

  constructor(db: DatabaseSync, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    this.reload();
  }

  /** Re-reads the settings and the current statement version. */
  reload(): void {
    const stored = getSetting(this.#db, MODE_SETTING);
    const mode = (NODE_MODES as readonly string[]).includes(stored ?? "")
      ? stored as NodeMode
      : "do-not-participate";
    const acceptedText = getSetting(this.#db, ACCEPTED_SETTING);
    const accepted = acceptedText === undefined ? null : Number(acceptedText);
    this.#statement = readStatement(this.#db);
    const current = this.#statement?.version ?? 0;
    const upstream = {} as Record<UpstreamTraffic, boolean>;
    // Acceptance is of one statement version: a newer one must be accepted again.
    for (const traffic of ["lookups", "statistics", "samples"] as const) {
      upstream[traffic] = accepted === current && UPSTREAM_ALLOWED[mode].has(traffic);
    }
    this.#state = {
      mode,
      statementAccepted: accepted !== null && accepted === current,
      statementAcceptedVersion: accepted,
      currentStatementVersion: current,
      upstream,
    };
  }

  /** The current state. */
  get state(): Readonly<NodeParticipationState> {
    return this.#state;
  }

  /** The KSN Statement clients must accept: the one this node enforces. */
  get statement(): Statement | undefined {
    return this.#statement;
  }

  /** The current KSN Statement version clients must accept. */
  get statementVersion(): number {
    return this.#state.currentStatementVersion;
  }

  /** Whether this kind of traffic may leave the node now. */
  allows(traffic: UpstreamTraffic): boolean {
    return this.#state.upstream[traffic];
  }

  /**
   * Sets the node's mode. Any mode but "do-not-participate" needs the statement
   * accepted, now (`acceptStatement`) or earlier.
   */
  set(mode: string, options: { acceptStatement?: boolean; actor: string }): NodeParticipationState {
    if (!(NODE_MODES as readonly string[]).includes(mode)) {
      throw new InvalidInputError(
        "invalid_mode",
        `Unknown node participation mode ${quote(mode)}: expected one of ${NODE_MODES.join(", ")}`,
      );
    }
    transaction(this.#db, () => {
      const current = readStatement(this.#db)?.version ?? 0;
      if (options.acceptStatement) setSetting(this.#db, ACCEPTED_SETTING, String(current));
      const accepted = getSetting(this.#db, ACCEPTED_SETTING);
      if (mode !== "do-not-participate" && accepted !== String(current)) {
        throw new AppError(
          "conflict",
          "statement_not_accepted",
          `Participation mode ${quote(mode)} requires accepting the current KSN Statement ` +
            `(version ${current}) first`,
        );
      }
      setSetting(this.#db, MODE_SETTING, mode);
      appendAudit(this.#db, {
        at: Math.floor(this.#clock.now() / 1000),
        actor: options.actor,
        action: "node.participation",
        detail: { mode, statementAccepted: options.acceptStatement ? current : undefined },
      });
      bumpGeneration(this.#db, "settings");
    });
    this.reload();
    return this.#state;
  }
}
