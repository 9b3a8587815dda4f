/** `pksn admin password`: set the admin password from the shell, read from standard input. */
import { AdminAuth } from "../admin/mod.ts";
import { AppError, createLogger, systemClock } from "../core/mod.ts";
import { openStore } from "../node/mod.ts";
import {
  type Command,
  type CommandInput,
  defineCommand,
  defineGroup,
  type Options,
} from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";
import { cliActor } from "./licence_context.ts";

const ADMIN_HELP = `Usage: pksn admin password [--username NAME] [options]

Sets the password of the admin account NAME (default "admin"), creating the
account if it does not exist, and ends its open sessions. The new password is
read from standard input twice, one line each, and both must match; it is never
taken from the command line, where other users of the machine could see it.
It needs at least 12 characters.

On a node without an admin account, "pksn serve" also logs a one-time setup
token for creating the account from the browser instead.

Options:
  --username NAME  the admin account (default "admin")
  --data DIR       data folder (env PKSN_DATA; default ./pksn-data)
  --config FILE    JSON configuration file (env PKSN_CONFIG)
  --actor NAME     who the audit log names (default the OS user)
  -h, --help       show this help

Example:
  printf '%s\\n%s\\n' "$PW" "$PW" | pksn admin password --data /var/lib/pksn
`;

const PASSWORD_OPTIONS = {
  ...DATA_OPTIONS,
  username: { type: "string" },
  actor: { type: "string" },
} as const satisfies Options;

/** `pksn admin password`. */
const passwordCommand: Command = defineCommand({
  name: "password",
  summary: "set the operator's admin password (read from standard input)",
  options: PASSWORD_OPTIONS,
  run: setPassword,
});

/** `pksn admin …`: so far only `password`. */
export const adminCommand: Command = defineGroup({
  name: "admin",
  synopsis: "admin password",
  summary: passwordCommand.summary,
  help: ADMIN_HELP,
  commands: [passwordCommand],
});

async function setPassword({ values }: CommandInput<typeof PASSWORD_OPTIONS>): Promise<number> {
  const config = await loadConfig(values);
  const username = values.username ?? "admin";
  const password = await readNewPassword();
  const log = createLogger(config.log.level);
  const db = await openStore(config.dataDir, { cacheMiB: 8, log });
  try {
    const auth = new AdminAuth({
      db,
      clock: systemClock,
      config: config.admin,
      secure: false,
      log,
    });
    const { created } = await auth.setPassword(username, password, {
      actor: cliActor(values.actor),
    });
    console.log(
      created
        ? `Created admin account "${username}"`
        : `Changed the password of admin account "${username}"; its sessions were ended`,
    );
    return 0;
  } finally {
    db.close();
  }
}

/** The new password, typed twice (hidden on a terminal) or piped in as two lines. */
async function readNewPassword(): Promise<string> {
  let first: string;
  let second: string | undefined;
  if (Deno.stdin.isTerminal()) {
    first = await promptHidden("New admin password: ");
    second = await promptHidden("Repeat the password: ");
  } else {
    const lines = (await new Response(Deno.stdin.readable).text()).split(/\r?\n/);
    if (lines.length > 2 && lines.at(-1) === "") lines.pop();
    if (lines.length !== 2 || lines[0] === "" || lines[1] === "") {
      throw new AppError(
        "invalid",
        "password_input",
        "Expected the new password twice on standard input, one line each",
      );
    }
    [first, second] = lines;
  }
  if (first !== second) {
    throw new AppError("invalid", "password_mismatch", "The two passwords do not match");
  }
  return first;
}

/** Reads one line from the terminal without echoing it. */
async function promptHidden(prompt: string): Promise<string> {
  await Deno.stderr.write(new TextEncoder().encode(prompt));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buffer = new Uint8Array(64);
  try {
    reading: while (true) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) break;
      for (const byte of buffer.subarray(0, n)) {
        if (byte === 0x0d || byte === 0x0a || byte === 0x04) break reading;
        if (byte === 0x03) throw new AppError("invalid", "cancelled", "Cancelled");
        if (byte === 0x7f || byte === 0x08) {
          // Drop the last character with its UTF-8 continuation bytes.
          while (bytes.length && (bytes.at(-1)! & 0xc0) === 0x80) bytes.pop();
          bytes.pop();
        } else {
          bytes.push(byte);
        }
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(new TextEncoder().encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
