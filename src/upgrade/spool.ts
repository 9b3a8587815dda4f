/**
 * The upgrade spool in `DATA/upgrade/`: the node stores an uploaded upgrade bundle there as
 * `bundle` (written as `bundle.part`, synced, then renamed, so the appliance's path unit never
 * sees half a file) and reports `status.json`. Verifying the bundle, writing the other root slot
 * and rebooting are the appliance's `pksn-upgrade`, run as root: the node itself has no right to
 * write a disk, and the bundle's signature is checked there, before anything else.
 */
import { join } from "node:path";
import { AppError, type Clock, quote, VERSION, writeUpload } from "../core/mod.ts";
import { BUSY_STATES, type UpgradeStatus, upgradeStatusSchema } from "./status.ts";

/** An uploaded bundle nobody has picked up for this long is reported as waiting in vain. */
const PICKUP_WARNING_MS = 60_000;

/** What `GET /admin/api/upgrade` shows. */
export interface UpgradeReport {
  /** This program's version. */
  running: string;
  /** The last status written, or null before the first upgrade. */
  status: UpgradeStatus | null;
  /** What is wrong with the status file or the spool, in a sentence; null when nothing is. */
  problem: string | null;
  /** Whether a new upload would be taken now. */
  acceptsUpload: boolean;
}

/** The node's half of an appliance upgrade. */
export class UpgradeSpool {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #clock: Clock;
  #uploading = false;

  constructor(options: { dir: string; maxBytes: number; clock: Clock }) {
    this.#dir = options.dir;
    this.#maxBytes = options.maxBytes;
    this.#clock = options.clock;
  }

  get #bundle(): string {
    return join(this.#dir, "bundle");
  }

  get #statusFile(): string {
    return join(this.#dir, "status.json");
  }

  /** The status and whether an upload would be taken. */
  async report(): Promise<UpgradeReport> {
    const { status, problem } = await this.#readStatus();
    const waiting = await this.#bundleAge();
    let note = problem;
    if (note === null && waiting !== null && waiting > PICKUP_WARNING_MS) {
      note = `The uploaded bundle has waited ${Math.round(waiting / 1000)} s and nothing has ` +
        "picked it up: the appliance's pksn-upgrade.path unit is not running (is this node " +
        "running on the appliance image?)";
    }
    return {
      running: VERSION,
      status,
      problem: note,
      acceptsUpload: !this.#uploading && waiting === null &&
        (status === null || !BUSY_STATES.has(status.state)),
    };
  }

  /**
   * Stores `body` as the bundle for the appliance to apply, and marks it `uploaded`. Refused
   * with 409 `upgrade_in_progress` while another upload or upgrade is under way.
   */
  async accept(body: ReadableStream<Uint8Array>): Promise<UpgradeStatus> {
    if (this.#uploading) throw busy("Another upgrade bundle is being uploaded");
    // Claimed before the first await: two uploads at once must not both write bundle.part.
    this.#uploading = true;
    const part = join(this.#dir, "bundle.part");
    try {
      await this.#refuseWhileBusy();
      await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
      await Deno.remove(part).catch(() => {}); // left by a crash during an earlier upload
      let size: number;
      try {
        size = await writeUpload(body, part, {
          what: "upgrade bundle",
          maxBytes: this.#maxBytes,
          limitSetting: "upgrade.maxMiB",
          tooLargeCode: "upgrade_too_large",
          otherwise: "copy it to the appliance's console and run pksn-upgrade there",
          sync: true,
        });
      } catch (err) {
        await Deno.remove(part).catch(() => {});
        throw err;
      }
      if (size === 0) {
        await Deno.remove(part).catch(() => {});
        throw new AppError("invalid", "upgrade_empty", "The request's body is empty");
      }
      const status: UpgradeStatus = {
        state: "uploaded",
        message: `Received ${size} bytes; the appliance verifies the bundle's signature next`,
        at: new Date(this.#clock.now()).toISOString(),
        from: VERSION,
        to: null,
        slot: null,
      };
      // The status first: the appliance may pick the bundle up the moment it appears.
      await this.#writeStatus(status);
      await Deno.rename(part, this.#bundle);
      return status;
    } finally {
      this.#uploading = false;
    }
  }

  async #refuseWhileBusy(): Promise<void> {
    if (await this.#bundleAge() !== null) {
      throw busy("An uploaded upgrade bundle is waiting for the appliance to apply it");
    }
    const { status } = await this.#readStatus();
    if (status !== null && BUSY_STATES.has(status.state)) {
      throw busy(
        status.state === "trial"
          ? `Version ${status.to ?? "?"} is on trial until it is committed`
          : `An upgrade is ${status.state}`,
      );
    }
  }

  /** How long the bundle has waited, or null when there is none. */
  async #bundleAge(): Promise<number | null> {
    try {
      const info = await Deno.stat(this.#bundle);
      return Math.max(0, this.#clock.now() - (info.mtime?.getTime() ?? this.#clock.now()));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  }

  async #readStatus(): Promise<{ status: UpgradeStatus | null; problem: string | null }> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#statusFile);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { status: null, problem: null };
      return { status: null, problem: `Cannot read ${quote(this.#statusFile)}: ${err}` };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { status: null, problem: `${quote(this.#statusFile)} is not JSON` };
    }
    const parsed = upgradeStatusSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        status: null,
        problem: `${quote(this.#statusFile)} is not an upgrade status: ${
          issue.path.join(".") || "the file"
        }: ${issue.message}`,
      };
    }
    return { status: parsed.data, problem: null };
  }

  async #writeStatus(status: UpgradeStatus): Promise<void> {
    const temp = `${this.#statusFile}.tmp`;
    await Deno.writeTextFile(temp, JSON.stringify(status) + "\n", { mode: 0o644 });
    await Deno.rename(temp, this.#statusFile);
  }
}

/** The 409 for an upload while another upload or an upgrade is under way. */
function busy(why: string): AppError {
  return new AppError("conflict", "upgrade_in_progress", `${why}; wait until it ends`);
}
