/** `pksn feed keygen|init|rotate-root`: the keys that sign a feed and the root that lists them. */
import { AppError, quote, systemClock } from "../core/mod.ts";
import {
  generateKeyFile,
  initRoot,
  readFeedRoot,
  type RoleKeys,
  rotateRoot,
  type SigningKey,
} from "../feed/mod.ts";
import type { Command, CommandInput, Options, OptionValues } from "./command.ts";
import { feedSubcommand, intOption, readKeyFiles, requiredOption } from "./_feed_args.ts";

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

const DAY_MS = 86_400_000;
const KEYGEN_OPTIONS = { out: { type: "string" } } as const satisfies Options;
const ROLE_OPTIONS = {
  out: { type: "string" },
  "root-key": { type: "string", multiple: true },
  "root-threshold": { type: "string" },
  "timestamp-key": { type: "string", multiple: true },
  "timestamp-threshold": { type: "string" },
  "expires-days": { type: "string" },
} as const satisfies Options;
const ROTATE_OPTIONS = {
  ...ROLE_OPTIONS,
  "old-root-key": { type: "string", multiple: true },
} as const satisfies Options;

/** `pksn feed keygen`. */
export const keygenCommand: Command = feedSubcommand({
  name: "keygen",
  summary: "make an Ed25519 key file (root or timestamp role)",
  help: KEYGEN_HELP,
  options: KEYGEN_OPTIONS,
  keepsUmask: true,
  run: keygen,
});

/** `pksn feed init`. */
export const initCommand: Command = feedSubcommand({
  name: "init",
  summary: "create the feed's root key set (root version 1)",
  help: INIT_HELP,
  options: ROLE_OPTIONS,
  keepsUmask: true,
  run: init,
});

/** `pksn feed rotate-root`. */
export const rotateRootCommand: Command = feedSubcommand({
  name: "rotate-root",
  summary: "sign a new root key set with the old root keys and the new ones",
  help: ROTATE_HELP,
  options: ROTATE_OPTIONS,
  keepsUmask: true,
  run: rotate,
});

async function keygen({ values }: CommandInput<typeof KEYGEN_OPTIONS>): Promise<number> {
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
async function roleSettings(
  values: OptionValues<typeof ROLE_OPTIONS>,
  command: string,
): Promise<{
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

async function init({ values }: CommandInput<typeof ROLE_OPTIONS>): Promise<number> {
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

async function rotate({ values }: CommandInput<typeof ROTATE_OPTIONS>): Promise<number> {
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
