/** `pksn feed …`: publishing a signed mirror feed, and carrying it to nodes offline. */
import type { ParseArgsConfig } from "node:util";
import { AppError, ConfigError, createLogger, quote, systemClock } from "../core/mod.ts";
import { openStore } from "../node/mod.ts";
import {
  exportBundle,
  openBundle,
  readShippedRoot,
  syncPaths,
  type SyncRunResult,
} from "../mirror/mod.ts";
import {
  generateKeyFile,
  initRoot,
  readFeedRoot,
  type RoleKeys,
  rotateRoot,
  type SigningKey,
} from "../feed/mod.ts";
import { DATA_OPTIONS, loadConfig, parseCommand, UsageError } from "./args.ts";
import { type FeedValues, intOption, readKeyFiles, requiredOption } from "./_feed_args.ts";
import { BUILD_HELP, BUILD_OPTIONS, buildFeed } from "./feed_build.ts";
import { openSyncService } from "./sync.ts";

/** Help text of `pksn feed`. */
export const FEED_HELP = `Usage: pksn feed COMMAND [options]

Publishes this node's kind of mirror as a signed feed that other nodes sync
from (a folder of plain files any web server can serve), and carries a feed to
nodes without a network path to it as an offline bundle.

Commands:
  keygen         make an Ed25519 key file (root or timestamp role)
  init           create the feed's root key set (root version 1)
  rotate-root    sign a new root key set with the old root keys and the new ones
  build          publish the next version from a database or feed files
  export         write the current version into one TAR, an offline bundle
  import-bundle  bring this node's mirror to a bundle's version, verified like a sync

Run "pksn feed COMMAND --help" for a command's options.
`;

const KEYGEN_HELP = `Usage: pksn feed keygen --out FILE

Makes a new Ed25519 key pair and writes it to FILE (mode 0600; an existing
file is never overwritten). Prints the key id. Keep root keys offline.

Options:
  --out FILE          where to write the key file
  -h, --help          show this help
`;

const ROLE_OPTIONS_HELP = `  --root-threshold N  root keys that must sign a new root (default 1)
  --timestamp-key FILE
                      a key of the timestamp role (repeatable; only its public
                      part goes into the root)
  --timestamp-threshold N
                      timestamp keys that must sign each version (default 1)
  --expires-days N    the root's lifetime (default 365); rotate before it ends
  -h, --help          show this help
`;

const INIT_HELP = `Usage: pksn feed init --out DIR --root-key FILE --timestamp-key FILE [options]

Creates root.json and root.1.json in the feed folder DIR: the keys nodes trust.
Ship root.json with each node (sync.root).

Options:
  --out DIR           the feed folder
  --root-key FILE     a key of the root role (repeatable); each one signs
${ROLE_OPTIONS_HELP}`;

const ROTATE_HELP = `Usage: pksn feed rotate-root --out DIR --old-root-key FILE --root-key FILE
                            --timestamp-key FILE [options]

Writes the next root version, signed by the current root keys and the new
ones, so nodes move to it on their next sync. Replace a lost or exposed
timestamp key this way, then build with the new key at once: a node that has
taken the new root refuses a timestamp signed by a key the root no longer lists.

Options:
  --out DIR           the feed folder
  --old-root-key FILE a key of the current root role (repeatable; its threshold
                      must be met)
  --root-key FILE     a key of the new root role (repeatable); each one signs
${ROLE_OPTIONS_HELP}`;

const EXPORT_HELP = `Usage: pksn feed export --feed DIR --out FILE

Writes the feed's current version as one TAR: the root versions, the signed
timestamp, the manifest, the snapshot and the deltas it lists. Carry it to a
node and run "pksn feed import-bundle FILE" there.

Options:
  --feed DIR          the feed folder
  --out FILE          the bundle to write (replaced if it exists)
  -h, --help          show this help
`;

const IMPORT_BUNDLE_HELP = `Usage: pksn feed import-bundle FILE [options]

Brings this node's mirror to the version in the bundle FILE, with every check
a network sync makes: the root chain from sync.root, signatures, expiry, no
rollback, and each file's hash and length. Local overrides are kept.

Options:
  --data DIR          data folder (env PKSN_DATA; default ./pksn-data)
  --config FILE       JSON configuration file (env PKSN_CONFIG); sync.root
                      (env PKSN_SYNC_ROOT) must name the feed's trusted root.json
  -h, --help          show this help
`;

const DAY_MS = 86_400_000;
const ROLE_OPTIONS = {
  out: { type: "string" },
  "root-key": { type: "string", multiple: true },
  "root-threshold": { type: "string" },
  "timestamp-key": { type: "string", multiple: true },
  "timestamp-threshold": { type: "string" },
  "expires-days": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

interface Subcommand {
  help: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Whether it takes positional arguments. */
  positionals?: boolean;
  run(values: FeedValues, positionals: string[]): Promise<number>;
}

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  keygen: { help: KEYGEN_HELP, options: { out: { type: "string" } }, run: keygen },
  init: { help: INIT_HELP, options: ROLE_OPTIONS, run: init },
  "rotate-root": {
    help: ROTATE_HELP,
    options: { ...ROLE_OPTIONS, "old-root-key": { type: "string", multiple: true } },
    run: rotate,
  },
  build: { help: BUILD_HELP, options: BUILD_OPTIONS, run: buildFeed },
  export: {
    help: EXPORT_HELP,
    options: { feed: { type: "string" }, out: { type: "string" } },
    run: exportFeed,
  },
  "import-bundle": {
    help: IMPORT_BUNDLE_HELP,
    options: DATA_OPTIONS,
    positionals: true,
    run: importBundle,
  },
};

/** Runs `pksn feed`. */
export async function feedCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    console.log(FEED_HELP);
    return sub === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
  if (command === undefined) {
    throw new UsageError(`Unknown command ${quote(`feed ${sub}`)}; see "pksn feed --help"`);
  }
  const { values, positionals } = parseCommand(
    `feed ${sub}`,
    rest,
    { ...command.options, help: { type: "boolean", short: "h" } },
    command.positionals ?? false,
  );
  if (values.help) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(values as FeedValues, positionals);
  } catch (err) {
    // A missing folder or a permission is the operator's to fix: one line, no stack trace.
    if (FILE_ERRORS.some((kind) => err instanceof kind)) {
      const message = `Cannot finish "feed ${sub}": ${(err as Error).message}`;
      throw new AppError("internal", "file_error", message, { cause: err });
    }
    throw err;
  }
}

const FILE_ERRORS = [
  Deno.errors.NotFound,
  Deno.errors.PermissionDenied,
  Deno.errors.AlreadyExists,
  Deno.errors.IsADirectory,
  Deno.errors.NotADirectory,
];

async function keygen(values: FeedValues): Promise<number> {
  const out = requiredOption(values, "out", "keygen");
  const key = await generateKeyFile();
  try {
    await Deno.writeTextFile(out, JSON.stringify(key, null, 2) + "\n", {
      createNew: true,
      mode: 0o600,
    });
  } catch (err) {
    const why = err instanceof Deno.errors.AlreadyExists
      ? "it exists already; a key file is never overwritten"
      : (err as Error).message;
    throw new AppError("invalid", "unwritable", `Cannot write key file ${quote(out)}: ${why}`);
  }
  console.log(key.keyid);
  return 0;
}

/** The root settings `init` and `rotate-root` share. */
async function roleSettings(values: FeedValues, command: string): Promise<{
  rootKeys: SigningKey[];
  rootThreshold: number;
  timestampRole: RoleKeys;
  expires: number;
}> {
  const rootKeys = await readKeyFiles(values, "root-key", command);
  const timestampKeys = await readKeyFiles(values, "timestamp-key", command);
  return {
    rootKeys,
    rootThreshold: intOption(values, "root-threshold", 1, { min: 1, max: 16 }),
    timestampRole: {
      keys: timestampKeys,
      threshold: intOption(values, "timestamp-threshold", 1, { min: 1, max: 16 }),
    },
    expires: systemClock.now() +
      intOption(values, "expires-days", 365, { min: 1, max: 3650 }) * DAY_MS,
  };
}

async function init(values: FeedValues): Promise<number> {
  const out = requiredOption(values, "out", "init");
  const s = await roleSettings(values, "init");
  const root = await initRoot(out, {
    signers: s.rootKeys,
    rootThreshold: s.rootThreshold,
    timestampRole: s.timestampRole,
    expires: s.expires,
  });
  console.log(
    `Created root version ${root.version} in ${quote(out)}: ${describeRoles(root.roles)}, ` +
      `expires ${root.expires}`,
  );
  return 0;
}

async function rotate(values: FeedValues): Promise<number> {
  const out = requiredOption(values, "out", "rotate-root");
  const oldKeys = await readKeyFiles(values, "old-root-key", "rotate-root");
  const s = await roleSettings(values, "rotate-root");
  const before = await readFeedRoot(out);
  const root = await rotateRoot(out, {
    oldSigners: oldKeys,
    newSigners: s.rootKeys,
    rootThreshold: s.rootThreshold,
    timestampRole: s.timestampRole,
    expires: s.expires,
  });
  console.log(
    `Rotated to root version ${root.version} in ${quote(out)}: ${describeRoles(root.roles)}, ` +
      `expires ${root.expires}`,
  );
  const dropped = before.roles.timestamp.keyids.filter((k) =>
    !root.roles.timestamp.keyids.includes(k)
  );
  if (dropped.length > 0) {
    console.log(
      'Run "pksn feed build" with the new timestamp key now: until then, nodes that take ' +
        "the new root refuse the current timestamp",
    );
  }
  return 0;
}

function describeRoles(
  roles: Record<"root" | "timestamp", { keyids: string[]; threshold: number }>,
): string {
  return (["root", "timestamp"] as const)
    .map((r) => `${roles[r].keyids.length} ${r} key(s), threshold ${roles[r].threshold}`)
    .join("; ");
}

async function exportFeed(values: FeedValues): Promise<number> {
  const feed = requiredOption(values, "feed", "export");
  const out = requiredOption(values, "out", "export");
  const report = await exportBundle(feed, out);
  console.log(
    `Wrote bundle ${
      quote(out)
    }: version ${report.version}, ${report.files} files, ${report.bytes} bytes`,
  );
  return 0;
}

async function importBundle(values: FeedValues, positionals: string[]): Promise<number> {
  if (positionals.length !== 1) {
    throw new UsageError('Expected exactly one bundle FILE; see "pksn feed import-bundle --help"');
  }
  const config = await loadConfig({
    config: values.config as string | undefined,
    dataDir: values.data as string | undefined,
  });
  if (config.sync.root === null) {
    throw new ConfigError(
      "sync.root is not set: set sync.root in the configuration (or PKSN_SYNC_ROOT) to the " +
        "feed's trusted root.json, which every bundle is verified against",
    );
  }
  // Read here too so that a wrong sync.root fails at once, before a large bundle is unpacked.
  await readShippedRoot(config.sync.root);
  const log = createLogger(config.log.level);
  // Unpacked first: a bundle that cannot be read should not leave a new, empty database behind.
  await using source = await openBundle(positionals[0], syncPaths(config.dataDir).staging, {
    maxFileBytes: config.sync.maxFileMiB * 1024 * 1024,
  });
  const db = await openStore(config.dataDir, { cacheMiB: config.store.importCacheMiB, log });
  try {
    const service = await openSyncService(config, db, log, source);
    console.log(describeOutcome(await service.runOnce(), positionals[0]));
    return 0;
  } finally {
    db.close();
  }
}

function describeOutcome(result: SyncRunResult, file: string): string {
  if (result.outcome === "current") {
    return `The mirror is at version ${result.to} already; ${quote(file)} holds nothing newer`;
  }
  return `Mirror updated from version ${result.from} to ${result.to} from ${quote(file)} ` +
    `(${result.via.join(", ")})`;
}
