/**
 * The README's CLI synopsis and quick start against the program: every command, subcommand and
 * option the synopsis names exists in that command's `--help`, and every command `pksn --help`
 * lists has a synopsis line. (The API tables have their own test: readme_routes_test.ts.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runPksn } from "../src/cli/pksn.ts";
import { ROOT } from "./_helpers.ts";

const README = await Deno.readTextFile(join(ROOT, "README.md"));

/** What `pksn WORDS... --help` prints and its exit code, run in this process. */
async function help(words: string[]): Promise<{ code: number; text: string }> {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => void printed.push(parts.join(" "));
  try {
    return { code: await runPksn([...words, "--help"]), text: printed.join("\n") };
  } catch (err) {
    return { code: -1, text: String(err) };
  } finally {
    console.log = log;
  }
}

/** The synopsis lines of the README's "The CLI" block, without their comments. */
function synopsis(): string[] {
  const block = README.match(/## The CLI\n\n```\n([\s\S]*?)```/);
  assert.ok(block, 'the README has a "## The CLI" section opening with a code block');
  return block[1].trim().split("\n").map((line) => line.replace(/\s+#.*$/, "").trim());
}

/** The lower-case words of a line that name subcommands (not option values). */
function subcommandsOf(tokens: string[]): string[] {
  const words: string[] = [];
  tokens.forEach((token, i) => {
    const previous = tokens[i - 1] ?? "";
    if (token.replace(/^\[/, "").startsWith("--")) return;
    if (previous.replace(/^\[/, "").startsWith("--") && !previous.endsWith("]")) return;
    for (const part of token.replace(/[[\]]/g, "").split("|")) {
      if (/^[a-z][a-z-]+$/.test(part)) words.push(part);
    }
  });
  return words;
}

Deno.test("every command, subcommand and option in the README's CLI synopsis is in its --help", async () => {
  const problems: string[] = [];
  for (const line of synopsis()) {
    const [pksn, command, ...rest] = line.split(/\s+/);
    assert.equal(pksn, "pksn", `a synopsis line starts with pksn: ${line}`);
    if (command === "--version") {
      const printed = console.log;
      console.log = () => {};
      try {
        assert.equal(await runPksn(["--version"]), 0);
      } finally {
        console.log = printed;
      }
      continue;
    }
    const own = await help([command]);
    if (own.code !== 0) {
      problems.push(`"pksn ${command} --help" exits ${own.code}`);
      continue;
    }
    const texts = [own.text];
    for (const sub of subcommandsOf(rest)) {
      if (!new RegExp(`\\b${sub}\\b`).test(own.text)) {
        problems.push(`"pksn ${command} --help" does not mention "${sub}"`);
      }
      const subHelp = await help([command, sub]);
      if (subHelp.code !== 0) {
        problems.push(`"pksn ${command} ${sub} --help" exits ${subHelp.code}`);
      }
      texts.push(subHelp.text);
    }
    for (const flag of line.match(/--[a-z][a-z-]*/g) ?? []) {
      if (!texts.some((text) => text.includes(flag))) {
        problems.push(`"pksn ${command}": no --help mentions ${flag}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("every command pksn --help lists has a line in the README's CLI synopsis", async () => {
  const top = await help([]);
  assert.equal(top.code, 0);
  const listed = top.text.split("Commands:\n")[1].split("\n\n")[0].split("\n")
    .map((line) => line.match(/^ {2}([a-z]+)\b/)?.[1])
    .filter((name): name is string => name !== undefined);
  assert.ok(listed.length >= 10, `pksn --help lists its commands: ${listed.join(", ")}`);
  const documented = new Set(synopsis().map((line) => line.split(/\s+/)[1]));
  assert.deepEqual(listed.filter((name) => !documented.has(name)), []);
});

Deno.test("the README's quick start runs deno tasks that exist, with the pinned Deno", async () => {
  const start = README.split("## Quick start")[1].split("```sh\n")[1].split("```")[0];
  const commands = start.trim().split("\n").map((line) => line.replace(/\s+#.*$/, ""));
  assert.deepEqual(commands, ["npx -y deno@2.9.6 task start", "npx -y deno@2.9.6 task test"]);
  const tasks = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).tasks;
  assert.match(tasks.start, /src\/main\.ts serve --demo$/);
  assert.match(tasks.test, /^deno test /);
  const ci = await Deno.readTextFile(join(ROOT, ".ci/run"));
  assert.match(ci, /^DENO_VERSION=2\.9\.6$/m);
  assert.match(
    ci,
    /^npx -y "deno@\$\{DENO_VERSION\}" task test /m,
    ".ci/run runs the same command",
  );
});
