/**
 * The shape of every `pksn` command: a name, a synopsis and summary for its group's help, its
 * options and what it runs. A group (`feed`, `license`, …) is a command too, whose table picks
 * the next word's command; `pksn` itself is the outermost group. Parsing, `--help` and usage
 * errors happen here, once, for all of them.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { closest, quote, UsageError } from "../core/mod.ts";
import { restrictNewFiles } from "./umask.ts";

/** A command's options, as node:util's `parseArgs` takes them. */
export type Options = NonNullable<ParseArgsConfig["options"]>;

const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const satisfies Options;

/** The values `parseArgs` gives for options `O` (and `-h, --help`), typed per option. */
export type OptionValues<O extends Options> =
  & ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>>["values"]
  & { help?: boolean };

/** A command as its group's table holds it. */
export interface Command {
  /** The word that picks it in its group. */
  readonly name: string;
  /** How its group's help lists it, such as "import FILE"; it may span lines. */
  readonly synopsis: string;
  /** What it does, for its group's help; it may span lines. */
  readonly summary: string;
  /** Runs it with the arguments after its name; resolves to the exit code. */
  run(args: string[], context: CommandContext): Promise<number>;
}

/** Where a command was reached from. */
export interface CommandContext {
  /** The words after "pksn" that name the command, such as "feed build"; "" for pksn itself. */
  readonly words: string;
  /** The help of its group, which a command without a page of its own shows. */
  readonly groupHelp: string;
}

/** What a command's `run` is given. */
export interface CommandInput<O extends Options> {
  values: OptionValues<O>;
  positionals: string[];
  /** The words that named it, such as "feed build". */
  words: string;
}

/** A command that does the work, as {@link defineCommand} takes it. */
export interface CommandSpec<O extends Options> {
  name: string;
  /** Defaults to the name. */
  synopsis?: string;
  summary: string;
  /** Its `--help` page; without one, it shows its group's. */
  help?: string;
  options: O;
  /** Whether it takes positional arguments; if not, any is a usage error. */
  positionals?: boolean;
  /**
   * It writes files for others to read (a feed tree any web server serves, bundles, key
   * files), so the user's umask applies. Every other command creates private files only: the
   * data folder (database, node.secret, statistics, spool) or an export of it.
   */
  keepsUmask?: boolean;
  run(input: CommandInput<O>): Promise<number>;
}

/** Makes a command from its spec: `--help`, strict option parsing and the umask come with it. */
export function defineCommand<O extends Options>(spec: CommandSpec<O>): Command {
  return {
    name: spec.name,
    synopsis: spec.synopsis ?? spec.name,
    summary: spec.summary,
    async run(args: string[], { words, groupHelp }: CommandContext): Promise<number> {
      if (!spec.keepsUmask) restrictNewFiles();
      const { values, positionals } = parseOptions(words, args, spec.options, spec.positionals);
      if (values.help) {
        console.log(spec.help ?? groupHelp);
        return 0;
      }
      return await spec.run({ values, positionals, words });
    },
  };
}

/** A group of commands, as {@link defineGroup} takes it. */
export interface GroupSpec {
  name: string;
  /** Defaults to the name. */
  synopsis?: string;
  summary: string;
  /** Shown for `--help`, `-h` or no word at all (which exits 2). */
  help: string;
  commands: readonly Command[];
  /**
   * Makes the command for a word that names none of `commands`; without it, such a word is a
   * usage error at once.
   */
  otherwise?: (word: string) => Command;
}

/** Makes a group: the word after its name picks one of its commands. */
export function defineGroup(spec: GroupSpec): Command {
  return {
    name: spec.name,
    synopsis: spec.synopsis ?? spec.name,
    summary: spec.summary,
    async run(args: string[], { words }: CommandContext): Promise<number> {
      const [word, ...rest] = args;
      if (word === undefined || word === "--help" || word === "-h") {
        console.log(spec.help);
        return word === undefined ? 2 : 0;
      }
      const command = spec.commands.find((c) => c.name === word) ?? spec.otherwise?.(word);
      if (command === undefined) throw unknownCommand(words, word);
      return await command.run(rest, { words: joinWords(words, word), groupHelp: spec.help });
    },
  };
}

/** The usage error for a `word` that names no command of the group `group` ("" for pksn). */
export function unknownCommand(group: string, word: string): UsageError {
  return new UsageError(
    `Unknown command ${quote(joinWords(group, word))}; see "${joinWords("pksn", group)} --help"`,
  );
}

/**
 * The "Commands:" lines of a group's help: each synopsis, then its summary from `column` on
 * (on the next line when the synopsis reaches that far).
 */
export function listCommands(commands: readonly Command[], column: number): string {
  const indent = " ".repeat(column);
  return commands.map(({ synopsis, summary }) => {
    const head = synopsis.split("\n").map((line) => `  ${line}`).join("\n");
    const [first, ...more] = summary.split("\n");
    const fits = !head.includes("\n") && head.length < column;
    const lines = fits ? [head.padEnd(column) + first] : [head, indent + first];
    return [...lines, ...more.map((line) => indent + line)].join("\n");
  }).join("\n");
}

/** Parses `args` strictly; an unknown option or a stray argument is a {@link UsageError}. */
function parseOptions<O extends Options>(
  words: string,
  args: string[],
  options: O,
  allowPositionals = false,
): { values: OptionValues<O>; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args,
      options: { ...options, ...HELP_OPTION },
      allowPositionals,
      strict: true,
    });
    // The same values OptionValues<O> names; TypeScript cannot follow the spread of a generic.
    return { values: parsed.values as OptionValues<O>, positionals: parsed.positionals };
  } catch (err) {
    const message = (err as Error).message;
    // parseArgs names an unknown option as '--name'; suggest the known one it is closest to.
    const unknown = /Unknown option '--([^']+)'/.exec(message)?.[1];
    const guess = unknown === undefined ? undefined : closest(unknown, Object.keys(options));
    const hint = guess === undefined ? "" : `; did you mean --${guess}?`;
    // parseArgs goes on about positional arguments that start with "-": not what happened here.
    const what = unknown === undefined ? message : `Unknown option ${quote(`--${unknown}`)}`;
    throw new UsageError(`${what}${hint}; see "pksn ${words} --help"`);
  }
}

function joinWords(...words: string[]): string {
  return words.filter((word) => word !== "").join(" ");
}
