/**
 * The operator's login: the admin account's password, login sessions (the id
 * lives only in the browser's cookie; the database keeps its SHA-256) and the
 * lock-out that slows down password guessing.
 */
import { createHash } from "node:crypto";
import {
  AppError,
  type Clock,
  type Config,
  InvalidInputError,
  type Logger,
  quote,
  toBase64Url,
} from "../core/mod.ts";
import { isoSeconds } from "../licences/mod.ts";
import { AdminAccountRepository, type DatabaseSync, transaction } from "../store/mod.ts";
import { LoginLockout } from "./lockout.ts";
import { AllowedOrigins } from "./origins.ts";
import { checkPasswordPolicy, hashPassword, verifyPassword } from "./password.ts";

/** The admin session cookie's name. */
export const SESSION_COOKIE = "pksn_admin";

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** What {@link AdminAuth} needs. */
export interface AdminAuthDeps {
  db: DatabaseSync;
  clock: Clock;
  config: Config["admin"];
  /** Served over TLS: the session cookie gets `Secure`. */
  secure: boolean;
  log: Logger;
}

/** A successful login. */
export interface AdminLogin {
  username: string;
  sessionId: string;
  csrfToken: string;
  expiresAt: string;
}

/** A valid session. */
export interface AdminSession {
  username: string;
  csrfToken: string;
  expiresAt: string;
}

/** Admin accounts, logins and sessions, and the origins admin requests may come from. */
export class AdminAuth {
  readonly secure: boolean;
  /**
   * `admin.allowedOrigins`; the server adds its own address with
   * `origins.listening(url)` once bound, since port 0 picks the port then.
   */
  readonly origins: AllowedOrigins;
  readonly #db: DatabaseSync;
  readonly #accounts: AdminAccountRepository;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #sessionSeconds: number;
  readonly #lockout: LoginLockout;
  // Logins for one username run one after another, so parallel guesses cannot
  // all pass the lock-out check before the first failure is counted.
  readonly #queues = new Map<string, Promise<unknown>>();
  #dummyHash: Promise<string> | undefined;

  constructor(deps: AdminAuthDeps) {
    this.secure = deps.secure;
    this.origins = new AllowedOrigins(deps.config.allowedOrigins);
    this.#db = deps.db;
    this.#accounts = new AdminAccountRepository(deps.db);
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#sessionSeconds = Math.max(1, Math.round(deps.config.sessionHours * 3600));
    this.#lockout = new LoginLockout(deps.clock, deps.config.maxFailures);
  }

  #now(): number {
    return Math.floor(this.#clock.now() / 1000);
  }

  /** Whether an admin account exists. */
  hasAccount(): boolean {
    return this.#accounts.hasAccount();
  }

  /**
   * Creates the account `username` or changes its password, ending its sessions.
   * With `firstOnly`, fails with 409 `admin_exists` when any account exists.
   */
  async setPassword(
    username: string,
    password: string,
    options: { actor?: string; firstOnly?: boolean } = {},
  ): Promise<{ created: boolean }> {
    checkAccount(username, password);
    const hash = await hashPassword(password);
    const actor = options.actor ?? `admin:${username}`;
    const result = transaction(this.#db, () => {
      if (options.firstOnly && this.#accounts.hasAccount()) throw adminExists();
      const created = this.#accounts.passwordHash(username) === undefined;
      const at = this.#now();
      this.#accounts.upsertAccount(username, hash, at);
      const sessionsEnded = this.#accounts.deleteUserSessions(username);
      this.#accounts.audit(at, actor, created ? "admin.create" : "admin.password", {
        username,
        sessionsEnded,
      });
      return { created, sessionsEnded };
    });
    this.#log.info(
      result.created ? "Created admin account" : "Changed admin password",
      { username, actor, sessionsEnded: result.sessionsEnded },
    );
    return { created: result.created };
  }

  /**
   * Checks the password and opens a session. 401 `login_failed` for a wrong
   * username or password; 429 `login_locked` with `Retry-After` while locked.
   */
  login(username: string, password: string, client: string): Promise<AdminLogin> {
    const previous = this.#queues.get(username) ?? Promise.resolve();
    const attempt = previous.then(() => this.#attempt(username, password, client));
    const settled = attempt.catch(() => {});
    this.#queues.set(username, settled);
    settled.then(() => {
      if (this.#queues.get(username) === settled) this.#queues.delete(username);
    });
    return attempt;
  }

  async #attempt(username: string, password: string, client: string): Promise<AdminLogin> {
    const locked = this.#lockout.lockedFor(username);
    if (locked > 0) throw lockedError(username, locked);
    const stored = this.#accounts.passwordHash(username);
    // An unknown username costs the same hashing time, so timing does not reveal names.
    const ok = stored === undefined
      ? (await verifyPassword(password, await this.#dummy()), false)
      : await verifyPassword(password, stored);
    const at = this.#now();
    if (!ok) {
      const { failures, lockMs } = this.#lockout.fail(username);
      const { actor, logged, detail } = loggableName(username);
      this.#log.warn("Admin login failed", { ...logged, client, failures });
      this.#accounts.audit(at, actor, "admin.login_failed", { ...detail, client, failures });
      if (lockMs > 0) {
        this.#log.warn("Admin login locked", { ...logged, client, seconds: lockMs / 1000 });
        this.#accounts.audit(at, actor, "admin.login_locked", {
          ...detail,
          client,
          failures,
          seconds: lockMs / 1000,
        });
      }
      throw new AppError("unauthorized", "login_failed", "Wrong username or password");
    }
    this.#lockout.succeed(username);
    const sessionId = randomId();
    const csrfToken = randomId();
    const expires = at + this.#sessionSeconds;
    transaction(this.#db, () => {
      this.#accounts.deleteExpired(at);
      this.#accounts.insertSession(sha256(sessionId), {
        username,
        csrf_token: csrfToken,
        created_at: at,
        expires_at: expires,
      });
      this.#accounts.audit(at, `admin:${username}`, "admin.login", { client });
    });
    this.#log.info("Admin logged in", { username, client });
    return { username, sessionId, csrfToken, expiresAt: isoSeconds(expires) };
  }

  /** The session with this id, or null when unknown or expired (an expired one is deleted). */
  session(sessionId: string): AdminSession | null {
    if (!SESSION_ID.test(sessionId)) return null;
    const idHash = sha256(sessionId);
    const row = this.#accounts.session(idHash);
    if (row === undefined) return null;
    if (this.#clock.now() / 1000 >= row.expires_at) {
      this.#accounts.deleteSession(idHash);
      return null;
    }
    return {
      username: row.username,
      csrfToken: row.csrf_token,
      expiresAt: isoSeconds(Number(row.expires_at)),
    };
  }

  /** Ends a session; returns whether it existed. */
  logout(sessionId: string): boolean {
    if (!SESSION_ID.test(sessionId)) return false;
    return this.#accounts.deleteSession(sha256(sessionId));
  }

  /** The `Set-Cookie` value that hands a login's session to the browser. */
  sessionCookie(login: AdminLogin): string {
    const maxAge = Math.max(0, Math.round(Date.parse(login.expiresAt) / 1000 - this.#now()));
    return this.#cookie(login.sessionId, maxAge);
  }

  /** The `Set-Cookie` value that removes the session cookie. */
  clearedCookie(): string {
    return this.#cookie("", 0);
  }

  #cookie(value: string, maxAge: number): string {
    return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=${maxAge}` +
      (this.secure ? "; Secure" : "");
  }

  #dummy(): Promise<string> {
    return this.#dummyHash ??= hashPassword(randomId());
  }
}

/** Throws 400 unless `username` is a valid admin name and `password` meets the policy. */
export function checkAccount(username: string, password: string): void {
  if (!USERNAME.test(username)) {
    throw new InvalidInputError(
      "invalid_username",
      `Invalid admin username ${
        quote(username)
      }: use 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`,
    );
  }
  checkPasswordPolicy(password);
}

/**
 * How a login's username may appear in the log and the audit table. A name that
 * breaks the username rule cannot be an account, and is often a password typed
 * into the wrong field, so only its length is written.
 */
function loggableName(
  username: string,
): { actor: string; logged: Record<string, unknown>; detail: Record<string, unknown> } {
  if (USERNAME.test(username)) {
    return { actor: `admin:${username}`, logged: { username }, detail: {} };
  }
  const length = { usernameLength: username.length };
  return { actor: "admin:(invalid username)", logged: length, detail: length };
}

/** 409 `admin_exists`: the first-run setup is over. */
export function adminExists(): AppError {
  return new AppError(
    "conflict",
    "admin_exists",
    "An admin account already exists: log in instead",
  );
}

function lockedError(username: string, ms: number): AppError {
  const seconds = Math.ceil(ms / 1000);
  return new AppError(
    "rate_limited",
    "login_locked",
    `Too many failed logins for ${
      USERNAME.test(username) ? quote(username) : "this username"
    }: try again in ${seconds} s`,
    { retryAfter: seconds },
  );
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return toBase64Url(bytes);
}

function sha256(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}
