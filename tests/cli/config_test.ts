import assert from "node:assert/strict";
import { join } from "node:path";
import { memoryLogger } from "../../src/core/log.ts";
import { openStore } from "../../src/node/node.ts";
import { runCli, tempDir } from "../_helpers.ts";

/** Three data folders A, B and C, each with a database, and a config file naming A. */
async function threeDataFolders(
  root: string,
): Promise<{ a: string; b: string; c: string; configFile: string }> {
  const [a, b, c] = ["a", "b", "c"].map((name) => join(root, name));
  for (const dir of [a, b, c]) {
    (await openStore(dir, { cacheMiB: 8, log: memoryLogger() })).close();
  }
  const configFile = join(root, "pksn.json");
  await Deno.writeTextFile(configFile, JSON.stringify({ dataDir: a }));
  return { a, b, c, configFile };
}

/** Which database `pksn db check --json ARGS` checked. */
async function checkedPath(args: string[], env: Record<string, string> = {}): Promise<string> {
  const result = await runCli(["db", "check", "--json", ...args], { env });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout).path;
}

Deno.test("the --data flag wins over PKSN_DATA and the config file's dataDir", async () => {
  await using dir = await tempDir();
  const { b, c, configFile } = await threeDataFolders(dir.path);
  const path = await checkedPath(["--config", configFile, "--data", c], { PKSN_DATA: b });
  assert.equal(path, join(c, "pksn.db"));
});

Deno.test("PKSN_DATA wins over the config file's dataDir when no --data is given", async () => {
  await using dir = await tempDir();
  const { b, configFile } = await threeDataFolders(dir.path);
  const path = await checkedPath(["--config", configFile], { PKSN_DATA: b });
  assert.equal(path, join(b, "pksn.db"));
});

Deno.test("PKSN_CONFIG names the config file whose dataDir is used", async () => {
  await using dir = await tempDir();
  const { a, configFile } = await threeDataFolders(dir.path);
  const path = await checkedPath([], { PKSN_CONFIG: configFile });
  assert.equal(path, join(a, "pksn.db"));
});

Deno.test("--config wins over PKSN_CONFIG", async () => {
  await using dir = await tempDir();
  const { c, configFile } = await threeDataFolders(dir.path);
  const other = join(dir.path, "other.json");
  await Deno.writeTextFile(other, JSON.stringify({ dataDir: c }));
  const path = await checkedPath(["--config", other], { PKSN_CONFIG: configFile });
  assert.equal(path, join(c, "pksn.db"));
});

Deno.test('a config file with a bad "listen" exits 1 naming the key, the file and the value', async () => {
  await using dir = await tempDir();
  const configFile = join(dir.path, "pksn.json");
  await Deno.writeTextFile(configFile, JSON.stringify({ listen: "nope" }));
  const result = await runCli(["db", "check", "--config", configFile, "--data", dir.path]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    new RegExp(`^pksn: Invalid configuration "listen" from file "${configFile}": .*got "nope"\\n$`),
  );
});

Deno.test("a config file with an unknown key exits 1 naming the key and the file", async () => {
  await using dir = await tempDir();
  const configFile = join(dir.path, "pksn.json");
  await Deno.writeTextFile(configFile, JSON.stringify({ store: { cacheMB: 64 } }));
  const result = await runCli(["db", "check", "--config", configFile, "--data", dir.path]);
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    `pksn: Invalid configuration "store.cacheMB" from file "${configFile}": unknown key; ` +
      `did you mean "store.cacheMiB"?\n`,
  );
});

Deno.test("a config file that is not JSON exits 1 naming the file", async () => {
  await using dir = await tempDir();
  const configFile = join(dir.path, "pksn.json");
  await Deno.writeTextFile(configFile, "listen = 127.0.0.1:8080\n");
  const result = await runCli(["db", "check", "--config", configFile, "--data", dir.path]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    new RegExp(`^pksn: Invalid configuration file "${configFile}": not JSON`),
  );
});

Deno.test("a missing config file exits 1 naming it", async () => {
  await using dir = await tempDir();
  const configFile = join(dir.path, "absent.json");
  const result = await runCli(["db", "check", "--config", configFile, "--data", dir.path]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    new RegExp(`^pksn: Cannot read configuration file "${configFile}": `),
  );
});

Deno.test("a bad PKSN_LISTEN exits 1 naming the environment variable", async () => {
  await using dir = await tempDir();
  const result = await runCli(["serve", "--data", dir.path], { env: { PKSN_LISTEN: "localhost" } });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^pksn: Invalid configuration "listen" from environment variable PKSN_LISTEN: .*got "localhost"\n$/,
  );
});

Deno.test("a bad --listen flag exits 1 naming the command line", async () => {
  await using dir = await tempDir();
  const result = await runCli(["serve", "--listen", "127.0.0.1:99999", "--data", dir.path]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^pksn: Invalid configuration "listen" from the command line: /);
});
