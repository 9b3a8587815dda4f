/**
 * Configuration: one zod schema, defaults in one place, and one precedence rule
 * (config file < environment < command-line flags). The result is frozen and has
 * every field filled, so nothing downstream needs to guess a default.
 */
import { z } from "zod";
import { ConfigError, quote } from "./errors.ts";

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.\-]+)):(\d{1,5})$/;

/** Parses `HOST:PORT` or `[IPv6]:PORT` into its parts, or returns null. */
export function parseListen(text: string): { hostname: string; port: number } | null {
  const m = HOST_PORT.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { hostname: m[1] ?? m[2], port };
}

const listenSchema = z.string().refine((v) => parseListen(v) !== null, {
  message: 'expected "HOST:PORT", for example "127.0.0.1:8080" or "[::1]:8080"',
});
const seconds = (max: number): z.ZodNumber =>
  z.number({ error: `expected a whole number of seconds from 0 to ${max}` }).int().min(0).max(max);

const lookupSchema = z.strictObject({
  unknownTtl: seconds(604_800).describe("TTL clients may cache an unknown verdict"),
  defaultTtl: seconds(2_592_000).describe("TTL for records that carry none"),
  maxBatchItems: z.number().int().min(1).max(10_000),
  maxBodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024),
  batchBudgetMs: z.number().int().min(1).max(60_000)
    .describe("look-up time one batch may use; later items answer batch_budget_exceeded"),
});

const serverSchema = z.strictObject({
  headTimeoutSeconds: z.number().min(0.5).max(3600)
    .describe("a new connection's first request head must arrive within this"),
  idleTimeoutSeconds: z.number().min(0.5).max(86_400)
    .describe("a kept-alive connection's next request head must arrive within this"),
  requestTimeoutSeconds: z.number().min(1).max(86_400)
    .describe("a request must be read and answered within this, uploads and downloads included"),
  maxConnections: z.number().int().min(1).max(1_000_000)
    .describe("open client connections; more are answered 503 too_many_connections"),
  maxConnectionsPerClient: z.number().int().min(1).max(1_000_000)
    .describe("open connections from one client address"),
});

const storeSchema = z.strictObject({
  cacheMiB: z.number().int().min(1).max(4096).describe("SQLite page cache for the server"),
  importCacheMiB: z.number().int().min(1).max(16384).describe("SQLite page cache while importing"),
  reloadCheckSeconds: z.number().min(0.1).max(3600)
    .describe("how often the server looks for writes by other processes"),
});

const logSchema = z.strictObject({
  level: z.enum(["debug", "info", "warn", "error"]),
  requests: z.boolean().describe("one line per request; off by default, it costs throughput"),
});

const authSchema = z.strictObject({
  required: z.boolean().describe(
    "licence keys on /v1 routes; turn off only on a closed test network or to benchmark",
  ),
});

const tlsSchema = z.strictObject({
  cert: z.string().min(1).nullable().describe("PEM certificate chain file; with key, serve HTTPS"),
  key: z.string().min(1).nullable().describe("PEM private key file"),
});

// An origin is a scheme, a host and an optional port: no path, query or credentials.
const ORIGIN = /^https?:\/\/[^/?#@\s]+\/?$/i;
const originSchema = z.string().max(300).refine((v) => ORIGIN.test(v) && URL.canParse(v), {
  message: 'expected an origin such as "https://pksn.isp.example:8443" (no path)',
});

const adminSchema = z.strictObject({
  sessionHours: z.number().min(0.1).max(720).describe("how long an admin login lasts"),
  maxFailures: z.number().int().min(1).max(100)
    .describe("failed logins before the admin login locks"),
  allowedOrigins: z.array(originSchema).max(64).describe(
    "origins (and so Host names) the admin API answers besides the listen address's own",
  ),
});

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const statsSchema = z.strictObject({
  maxBatchRecords: z.number().int().min(1).max(100_000)
    .describe("records in one POST /v1/stats"),
  maxBatchBytes: z.number().int().min(1024).max(256 * MiB).describe("body of one POST /v1/stats"),
  retentionDays: z.number().int().min(1).max(3650).describe("days of archives kept"),
  retentionBytes: z.number().int().min(MiB).max(1024 * GiB)
    .describe("total size of archives kept; oldest go first"),
  spoolMaxBytes: z.number().int().min(MiB).max(64 * GiB)
    .describe("data waiting to go upstream before new batches stop being queued"),
  forwardIntervalSeconds: z.number().min(0.05).max(3600)
    .describe("how often queued data is sent upstream"),
  maxSampleBytes: z.number().int().min(1024).max(1024 * MiB).describe("one sample"),
  quarantineMaxBytes: z.number().int().min(MiB).max(1024 * GiB).describe("all samples kept"),
  sampleRetentionDays: z.number().int().min(1).max(3650).describe("days a sample is kept"),
});

const upstreamSchema = z.strictObject({
  url: z.url({
    protocol: /^https?$/,
    error: 'expected an http(s) URL such as "https://core.example:8443"',
  })
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), {
      message: "must not carry credentials; put this node's licence key in upstream.key",
    })
    .nullable().describe("the parent node statistics and samples go to"),
  key: z.string().min(8).max(128).nullable().describe("this node's licence key at the parent"),
  timeoutSeconds: z.number().min(1).max(600),
  caCert: z.string().min(1).nullable().describe("PEM file of a CA to trust for the parent's TLS"),
});

const syncSchema = z.strictObject({
  url: z.url({
    protocol: /^https?$/,
    error: 'expected an http(s) URL of a feed tree such as "https://feeds.example/pksn/"',
  })
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), {
      message: "must not carry credentials; put this node's licence key in sync.key",
    })
    .nullable().describe("the feed this node's mirror follows (an origin or a parent's /feed/)"),
  key: z.string().min(8).max(128).nullable()
    .describe("licence key sent to a parent node that guards its /feed"),
  root: z.string().min(1).nullable().describe("the trusted root.json shipped with the node"),
  caCert: z.string().min(1).nullable().describe("PEM file of a CA to trust for the feed's TLS"),
  intervalSeconds: z.number().min(1).max(86_400).describe("time between polls"),
  jitter: z.number().min(0).max(0.5).describe("share of the interval polls are spread by"),
  firstPollMaxSeconds: z.number().min(0).max(3600)
    .describe("the first poll comes at a random delay up to this after start"),
  maxBackoffSeconds: z.number().min(1).max(86_400).describe("cap of the back-off after failures"),
  timeoutSeconds: z.number().min(1).max(3600).describe("one request"),
  deadlineSeconds: z.number().min(1).max(86_400).describe("one whole sync run"),
  maxFileMiB: z.number().int().min(1).max(65_536).describe("largest data file accepted"),
  staleAfterSeconds: z.number().int().min(1).max(30 * 86_400)
    .describe("without a successful check for this long, the mirror is reported stale"),
  frozen: z.enum(["serve-stale", "unknown"], {
    error: 'expected "serve-stale" (answer with stale: true) or "unknown"',
  }).describe("what a mirror past its signed expiry answers"),
  serveFeed: z.boolean().describe("serve the verified feed to downstream nodes at /feed/"),
  feedRequiresLicence: z.boolean().describe("downstream nodes need a licence key for /feed/"),
});

const configSchema = z.strictObject({
  listen: listenSchema,
  dataDir: z.string().min(1),
  lookup: lookupSchema,
  server: serverSchema,
  store: storeSchema,
  log: logSchema,
  auth: authSchema,
  tls: tlsSchema.refine((t) => (t.cert === null) === (t.key === null), {
    message: "tls.cert and tls.key must be given together",
  }),
  admin: adminSchema,
  stats: statsSchema,
  upstream: upstreamSchema,
  sync: syncSchema.refine((s) => s.url === null || s.root !== null, {
    message: "sync.url needs sync.root, the trusted root.json of that feed",
  }),
});

/** The resolved, complete configuration. */
export type Config = Readonly<z.infer<typeof configSchema>>;

/** Built-in defaults: a node that works out of the box on loopback. */
export const DEFAULTS: Config = {
  listen: "127.0.0.1:8080",
  dataDir: "pksn-data",
  lookup: {
    unknownTtl: 300,
    defaultTtl: 3600,
    maxBatchItems: 1000,
    maxBodyBytes: 1_048_576,
    batchBudgetMs: 500,
  },
  server: {
    headTimeoutSeconds: 10,
    idleTimeoutSeconds: 30,
    requestTimeoutSeconds: 300,
    maxConnections: 4096,
    maxConnectionsPerClient: 256,
  },
  store: { cacheMiB: 16, importCacheMiB: 512, reloadCheckSeconds: 1 },
  log: { level: "info", requests: false },
  auth: { required: true },
  tls: { cert: null, key: null },
  admin: { sessionHours: 12, maxFailures: 5, allowedOrigins: [] },
  stats: {
    maxBatchRecords: 10_000,
    maxBatchBytes: 16 * MiB,
    retentionDays: 365,
    retentionBytes: GiB,
    spoolMaxBytes: 256 * MiB,
    forwardIntervalSeconds: 10,
    maxSampleBytes: 32 * MiB,
    quarantineMaxBytes: 2 * GiB,
    sampleRetentionDays: 30,
  },
  upstream: { url: null, key: null, timeoutSeconds: 30, caCert: null },
  sync: {
    url: null,
    key: null,
    root: null,
    caCert: null,
    intervalSeconds: 900,
    jitter: 0.1,
    firstPollMaxSeconds: 30,
    maxBackoffSeconds: 3600,
    timeoutSeconds: 60,
    deadlineSeconds: 3600,
    maxFileMiB: 4096,
    staleAfterSeconds: 3 * 3600,
    frozen: "serve-stale",
    serveFeed: false,
    feedRequiresLicence: true,
  },
};

/** A partial configuration as one source (file, environment, flags) supplies it. */
export type ConfigLayer = {
  listen?: string;
  dataDir?: string;
  lookup?: Partial<Config["lookup"]>;
  server?: Partial<Config["server"]>;
  store?: Partial<Config["store"]>;
  log?: Partial<Config["log"]>;
  auth?: Partial<Config["auth"]>;
  tls?: Partial<Config["tls"]>;
  admin?: Partial<Config["admin"]>;
  stats?: Partial<Config["stats"]>;
  upstream?: Partial<Config["upstream"]>;
  sync?: Partial<Config["sync"]>;
};

const layerSchema = z.strictObject({
  listen: listenSchema.optional(),
  dataDir: z.string().min(1).optional(),
  lookup: lookupSchema.partial().optional(),
  server: serverSchema.partial().optional(),
  store: storeSchema.partial().optional(),
  log: logSchema.partial().optional(),
  auth: authSchema.partial().optional(),
  tls: tlsSchema.partial().optional(),
  admin: adminSchema.partial().optional(),
  stats: statsSchema.partial().optional(),
  upstream: upstreamSchema.partial().optional(),
  sync: syncSchema.partial().optional(),
});

/** Environment variables and the config keys they set. */
export const ENV_KEYS: Readonly<Record<string, string>> = {
  PKSN_LISTEN: "listen",
  PKSN_DATA: "dataDir",
  PKSN_LOG_LEVEL: "log.level",
  PKSN_TLS_CERT: "tls.cert",
  PKSN_TLS_KEY: "tls.key",
  PKSN_UPSTREAM_URL: "upstream.url",
  PKSN_UPSTREAM_KEY: "upstream.key",
  PKSN_SYNC_URL: "sync.url",
  PKSN_SYNC_KEY: "sync.key",
  PKSN_SYNC_ROOT: "sync.root",
};

function validateLayer(layer: unknown, sourceOf: (key: string) => string): ConfigLayer {
  const parsed = layerSchema.safeParse(layer);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue.path.join(".");
  if (issue.code === "unrecognized_keys") {
    const key = [...issue.path, issue.keys[0]].join(".");
    throw new ConfigError(`Invalid configuration ${quote(key)} from ${sourceOf(key)}: unknown key`);
  }
  const got = issue.path.reduce<unknown>(
    (v, k) => (v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined),
    layer,
  );
  throw new ConfigError(
    `Invalid configuration ${quote(path || "(root)")} from ${sourceOf(path)}: ${issue.message}` +
      (got === undefined || SECRET_KEYS.has(path) ? "" : `, got ${JSON.stringify(got)}`),
  );
}

// Values never echoed in an error: they may hold a licence key or credentials.
const SECRET_KEYS: ReadonlySet<string> = new Set([
  "upstream.key",
  "upstream.url",
  "sync.key",
  "sync.url",
]);

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node = (node[part] ??= {}) as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/** Reads the config layer from environment variables (`PKSN_*`). */
export function layerFromEnv(env: Readonly<Record<string, string | undefined>>): ConfigLayer {
  const layer: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== "") setPath(layer, key, value);
  }
  const nameOf = (key: string): string =>
    Object.entries(ENV_KEYS).find(([, k]) => k === key)?.[0] ?? key;
  return validateLayer(layer, (key) => `environment variable ${nameOf(key)}`);
}

/** Parses a config file's text; the error names the file and what is wrong. */
export function layerFromFile(text: string, path: string): ConfigLayer {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `Invalid configuration file ${quote(path)}: not JSON: ${(err as Error).message}`,
    );
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`Invalid configuration file ${quote(path)}: expected a JSON object`);
  }
  return validateLayer(raw, () => `file ${quote(path)}`);
}

/** Validates flags given on the command line as a layer. */
export function layerFromFlags(flags: ConfigLayer): ConfigLayer {
  return validateLayer(flags, () => "the command line");
}

/** Merges layers over the defaults, later layers winning, and freezes the result. */
export function resolveConfig(...layers: ConfigLayer[]): Config {
  const merged = {
    ...DEFAULTS,
    lookup: { ...DEFAULTS.lookup },
    server: { ...DEFAULTS.server },
    store: { ...DEFAULTS.store },
    log: { ...DEFAULTS.log },
    auth: { ...DEFAULTS.auth },
    tls: { ...DEFAULTS.tls },
    admin: { ...DEFAULTS.admin },
    stats: { ...DEFAULTS.stats },
    upstream: { ...DEFAULTS.upstream },
    sync: { ...DEFAULTS.sync },
  };
  for (const layer of layers) {
    if (layer.listen !== undefined) merged.listen = layer.listen;
    if (layer.dataDir !== undefined) merged.dataDir = layer.dataDir;
    assignDefined(merged.lookup, layer.lookup);
    assignDefined(merged.server, layer.server);
    assignDefined(merged.store, layer.store);
    assignDefined(merged.log, layer.log);
    assignDefined(merged.auth, layer.auth);
    assignDefined(merged.tls, layer.tls);
    assignDefined(merged.admin, layer.admin);
    assignDefined(merged.stats, layer.stats);
    assignDefined(merged.upstream, layer.upstream);
    assignDefined(merged.sync, layer.sync);
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`Invalid configuration ${quote(issue.path.join("."))}: ${issue.message}`);
  }
  const config = parsed.data;
  return deepFreeze(config);
}

function assignDefined<T extends object>(target: T, source: Partial<T> | undefined): void {
  if (!source) return;
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
