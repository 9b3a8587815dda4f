/**
 * The configuration's one shape: every setting with its range, its default and a sentence on
 * what it does. `Config` (complete) and `ConfigLayer` (what one source may give) are both read
 * off this schema, so a new setting is written here and nowhere else.
 */
import { z } from "zod";

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

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const lookupSchema = z.strictObject({
  unknownTtl: seconds(604_800).default(300).describe("TTL clients may cache an unknown verdict"),
  defaultTtl: seconds(2_592_000).default(3600).describe("TTL for records that carry none"),
  maxBatchItems: z.number().int().min(1).max(10_000).default(1000),
  maxBodyBytes: z.number().int().min(1024).max(64 * MiB).default(MiB),
  batchBudgetMs: z.number().int().min(1).max(60_000).default(500)
    .describe("look-up time one batch may use; later items answer batch_budget_exceeded"),
});

const serverSchema = z.strictObject({
  headTimeoutSeconds: z.number().min(0.5).max(3600).default(10)
    .describe("a new connection's first request head must arrive within this"),
  idleTimeoutSeconds: z.number().min(0.5).max(86_400).default(30)
    .describe("a kept-alive connection's next request head must arrive within this"),
  requestTimeoutSeconds: z.number().min(1).max(86_400).default(300)
    .describe("a request must be read and answered within this, uploads and downloads included"),
  maxConnections: z.number().int().min(1).max(1_000_000).default(4096)
    .describe("open client connections; more are answered 503 too_many_connections"),
  maxConnectionsPerClient: z.number().int().min(1).max(1_000_000).default(256)
    .describe("open connections from one client address"),
});

const storeSchema = z.strictObject({
  // Listed look-ups ask random keys, so beyond the B-tree's inner pages (estimated at about 1% of
  // the pages, under 8 MiB at ten million records) a larger cache mostly keeps leaf pages seldom
  // met again: 16 MiB cost 8-10 MB more RSS for no measurable look-up rate at 1M or 10M records
  // (2026-12-03).
  cacheMiB: z.number().int().min(1).max(4096).default(8)
    .describe("SQLite page cache for the server"),
  importCacheMiB: z.number().int().min(1).max(16384).default(512)
    .describe("SQLite page cache while importing"),
  reloadCheckSeconds: z.number().min(0.1).max(3600).default(1)
    .describe("how often the server looks for writes by other processes"),
});

const logSchema = z.strictObject({
  level: z.enum(["debug", "info", "warn", "error"]).default("info"),
  requests: z.boolean().default(false)
    .describe("one line per request; off by default, it costs throughput"),
});

const authSchema = z.strictObject({
  required: z.boolean().default(true).describe(
    "licence keys on /v1 routes; turn off only on a closed test network or to benchmark",
  ),
});

const tlsSchema = z.strictObject({
  cert: z.string().min(1).nullable().default(null)
    .describe("PEM certificate chain file; with key, serve HTTPS"),
  key: z.string().min(1).nullable().default(null).describe("PEM private key file"),
});

// An origin is a scheme, a host and an optional port: no path, query or credentials.
const ORIGIN = /^https?:\/\/[^/?#@\s]+\/?$/i;
const originSchema = z.string().max(300).refine((v) => ORIGIN.test(v) && URL.canParse(v), {
  message: 'expected an origin such as "https://pksn.isp.example:8443" (no path)',
});

const adminSchema = z.strictObject({
  sessionHours: z.number().min(0.1).max(720).default(12).describe("how long an admin login lasts"),
  maxFailures: z.number().int().min(1).max(100).default(5)
    .describe("failed logins before the admin login locks"),
  allowedOrigins: z.array(originSchema).max(64).default([]).describe(
    "origins (and so Host names) the admin API answers besides the listen address's own",
  ),
});

const statsSchema = z.strictObject({
  maxBatchRecords: z.number().int().min(1).max(100_000).default(10_000)
    .describe("records in one POST /v1/stats"),
  maxBatchBytes: z.number().int().min(1024).max(256 * MiB).default(16 * MiB)
    .describe("body of one POST /v1/stats"),
  retentionDays: z.number().int().min(1).max(3650).default(365)
    .describe("days of archives kept"),
  retentionBytes: z.number().int().min(MiB).max(1024 * GiB).default(GiB)
    .describe("total size of archives kept; oldest go first"),
  spoolMaxBytes: z.number().int().min(MiB).max(64 * GiB).default(256 * MiB)
    .describe("data waiting to go upstream before new batches stop being queued"),
  forwardIntervalSeconds: z.number().min(0.05).max(3600).default(10)
    .describe("how often queued data is sent upstream"),
  maxSampleBytes: z.number().int().min(1024).max(1024 * MiB).default(32 * MiB)
    .describe("one sample"),
  quarantineMaxBytes: z.number().int().min(MiB).max(1024 * GiB).default(2 * GiB)
    .describe("all samples kept"),
  sampleRetentionDays: z.number().int().min(1).max(3650).default(30)
    .describe("days a sample is kept"),
});

const upstreamSchema = z.strictObject({
  url: z.url({
    protocol: /^https?$/,
    error: 'expected an http(s) URL such as "https://core.example:8443"',
  })
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), {
      message: "must not carry credentials; put this node's licence key in upstream.key",
    })
    .nullable().default(null).describe("the parent node statistics and samples go to"),
  key: z.string().min(8).max(128).nullable().default(null)
    .describe("this node's licence key at the parent"),
  timeoutSeconds: z.number().min(1).max(600).default(30),
  caCert: z.string().min(1).nullable().default(null)
    .describe("PEM file of a CA to trust for the parent's TLS"),
});

const proxySchema = z.strictObject({
  enabled: z.boolean().default(false)
    .describe("ask the parent (upstream.url) about objects no override or mirror record answers"),
  cacheEntries: z.number().int().min(100).max(10_000_000).default(50_000)
    .describe("answers the proxy cache keeps; least recently used leave first"),
  cacheMiB: z.number().int().min(1).max(4096).default(16)
    .describe("memory the proxy cache's answers may take; at most a quarter of the heap"),
  maxTtlSeconds: seconds(30 * 86_400).default(86_400)
    .describe("longest an answer is cached, whatever TTL the parent gave"),
  unknownTtlSeconds: seconds(7 * 86_400).default(3600)
    .describe("how long an unknown answer is cached (negative caching)"),
  staleSeconds: seconds(30 * 86_400).default(86_400)
    .describe("how long after expiry an answer may still be served while the parent fails"),
  timeoutMs: z.number().int().min(1).max(60_000).default(500)
    .describe("longest a client waits for the parent before getting the local answer"),
  batchWindowMs: z.number().int().min(0).max(1000).default(5)
    .describe("while requests to the parent are out, misses arriving within this go in one"),
  maxBatchItems: z.number().int().min(1).max(10_000).default(1000)
    .describe("objects in one request to the parent (its lookup.maxBatchItems)"),
  breakerFailures: z.number().int().min(1).max(1000).default(5)
    .describe("failed requests in a row after which the parent is not asked for a while"),
  breakerOpenSeconds: z.number().min(0.1).max(3600).default(30)
    .describe("how long the parent is left alone after that (plus up to 20% jitter)"),
});

const syncSchema = z.strictObject({
  url: z.url({
    protocol: /^https?$/,
    error: 'expected an http(s) URL of a feed tree such as "https://feeds.example/pksn/"',
  })
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), {
      message: "must not carry credentials; put this node's licence key in sync.key",
    })
    .nullable().default(null)
    .describe("the feed this node's mirror follows (an origin or a parent's /feed/)"),
  key: z.string().min(8).max(128).nullable().default(null)
    .describe("licence key sent to a parent node that guards its /feed"),
  root: z.string().min(1).nullable().default(null)
    .describe("the trusted root.json shipped with the node"),
  caCert: z.string().min(1).nullable().default(null)
    .describe("PEM file of a CA to trust for the feed's TLS"),
  intervalSeconds: z.number().min(1).max(86_400).default(900).describe("time between polls"),
  jitter: z.number().min(0).max(0.5).default(0.1)
    .describe("share of the interval polls are spread by"),
  firstPollMaxSeconds: z.number().min(0).max(3600).default(30)
    .describe("the first poll comes at a random delay up to this after start"),
  maxBackoffSeconds: z.number().min(1).max(86_400).default(3600)
    .describe("cap of the back-off after failures"),
  timeoutSeconds: z.number().min(1).max(3600).default(60).describe("one request"),
  deadlineSeconds: z.number().min(1).max(86_400).default(3600).describe("one whole sync run"),
  maxFileMiB: z.number().int().min(1).max(65_536).default(4096)
    .describe("largest data file accepted"),
  staleAfterSeconds: z.number().int().min(1).max(30 * 86_400).default(3 * 3600)
    .describe("without a successful check for this long, the mirror is reported stale"),
  frozen: z.enum(["serve-stale", "unknown"], {
    error: 'expected "serve-stale" (answer with stale: true) or "unknown"',
  }).default("serve-stale").describe("what a mirror past its signed expiry answers"),
  serveFeed: z.boolean().default(false)
    .describe("serve the verified feed to downstream nodes at /feed/"),
  feedRequiresLicence: z.boolean().default(true)
    .describe("downstream nodes need a licence key for /feed/"),
});

/** Source networks (CIDR, or bare addresses); checked in full where they are used. */
const networks = z.array(z.string().min(1).max(64)).max(1000);

const compatSchema = z.strictObject({
  hashlookup: z.boolean().default(true)
    .describe("CIRCL hashlookup routes: /lookup/{md5,sha1,sha256}/H, /bulk/..., /info"),
  virustotal: z.boolean().default(true)
    .describe("VirusTotal v3 routes: /api/v3/files, urls, domains, ip_addresses"),
  allow: networks.default([])
    .describe("source networks admitted to those routes without a licence key"),
});

const zoneName = z.string().regex(
  /^(?=.{1,200}$)[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*\.?$/,
  {
    message: 'expected a DNS name such as "pksn.example.net"',
  },
);
const dnsSchema = z.strictObject({
  listen: listenSchema.nullable().default(null)
    .describe("HOST:PORT for DNS look-ups over UDP and TCP; off when null"),
  zone: zoneName.default("pksn.invalid")
    .describe("the zone look-ups are asked under (<md5>.ZONE)"),
  allow: networks.default(["127.0.0.0/8", "::1"])
    .describe("source networks admitted to DNS look-ups and zone transfers"),
  rpzZone: zoneName.nullable().default(null)
    .describe(
      "name of the RPZ zone served by zone transfer (AXFR, IXFR) at dns.listen; off when null",
    ),
  rpzIps: z.boolean().default(false)
    .describe("list malicious and phishing IP networks in the RPZ zone too (rpz-ip triggers)"),
  rpzTtl: seconds(86_400).default(300)
    .describe("TTL of the RPZ zone's records: how long a resolver may cache a rewritten answer"),
});

const upgradeSchema = z.strictObject({
  enabled: z.boolean().default(false)
    .describe("take appliance upgrade bundles at POST /admin/api/upgrade (the image sets it)"),
  maxMiB: z.number().int().min(16).max(8192).default(1024)
    .describe("largest upgrade bundle accepted"),
});

/**
 * The whole configuration; a section left out is filled with its defaults (`prefault({})`
 * parses `{}`, so each field's own default applies). Checks across fields sit on their
 * section and run only on the merged result, where every field is known.
 */
export const configSchema = z.strictObject({
  listen: listenSchema.default("127.0.0.1:8080"),
  dataDir: z.string().min(1).default("pksn-data"),
  lookup: lookupSchema.prefault({}),
  server: serverSchema.prefault({}),
  store: storeSchema.prefault({}),
  log: logSchema.prefault({}),
  auth: authSchema.prefault({}),
  tls: tlsSchema.refine((t) => (t.cert === null) === (t.key === null), {
    message: "tls.cert and tls.key must be given together",
  }).prefault({}),
  admin: adminSchema.prefault({}),
  stats: statsSchema.prefault({}),
  upstream: upstreamSchema.prefault({}),
  proxy: proxySchema.prefault({}),
  sync: syncSchema.refine((s) => s.url === null || s.root !== null, {
    message: "sync.url needs sync.root, the trusted root.json of that feed",
  }).prefault({}),
  compat: compatSchema.prefault({}),
  dns: dnsSchema.prefault({}),
  upgrade: upgradeSchema.prefault({}),
});

/** The resolved, complete configuration. */
export type Config = Readonly<z.output<typeof configSchema>>;

/**
 * A partial configuration as one source (file, environment, flags) supplies it: the schema's
 * input, in which every field is optional because every field has a default.
 */
export type ConfigLayer = z.input<typeof configSchema>;
