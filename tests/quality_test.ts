/** The code is formatted, lint-clean and type-checks: the same gates as `deno task ok`. */
import assert from "node:assert/strict";

const root = new URL("..", import.meta.url).pathname;

async function deno(...args: string[]): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}

Deno.test("the source is formatted as deno fmt writes it", async () => {
  const { code, output } = await deno("fmt", "--check");
  assert.equal(code, 0, output);
});

Deno.test("deno lint finds nothing", async () => {
  const { code, output } = await deno("lint");
  assert.equal(code, 0, output);
});

Deno.test("the CLI entry and scripts type-check", async () => {
  const scripts = [...Deno.readDirSync(root)].some((e) => e.name === "scripts")
    ? [...Deno.readDirSync(`${root}/scripts`)]
      .filter((e) => e.isFile && e.name.endsWith(".ts"))
      .map((e) => `scripts/${e.name}`)
    : [];
  const { code, output } = await deno("check", "src/main.ts", ...scripts);
  assert.equal(code, 0, output);
});
