import assert from "node:assert/strict";
import {
  DEFAULTS,
  layerFromEnv,
  layerFromFile,
  layerFromFlags,
  parseListen,
  resolveConfig,
} from "../src/core/config.ts";
import { ConfigError } from "../src/core/errors.ts";

/** Runs fn, asserts it throws a ConfigError and returns its message. */
function configErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    assert.equal(error.code, "config_invalid");
    return error.message;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("resolveConfig with no layers gives the built-in defaults", () => {
  assert.deepEqual(resolveConfig(), DEFAULTS);
  assert.equal(resolveConfig().listen, "127.0.0.1:8080");
  assert.equal(resolveConfig().lookup.unknownTtl, 300);
  assert.equal(resolveConfig().log.requests, false);
});

Deno.test("resolveConfig keeps defaults for fields a layer leaves out", () => {
  const config = resolveConfig({ lookup: { unknownTtl: 60 } });
  assert.equal(config.lookup.unknownTtl, 60);
  assert.equal(config.lookup.defaultTtl, DEFAULTS.lookup.defaultTtl);
  assert.equal(config.lookup.maxBatchItems, DEFAULTS.lookup.maxBatchItems);
  assert.deepEqual(config.store, DEFAULTS.store);
});

Deno.test("the environment overrides the config file", () => {
  const file = layerFromFile('{"listen":"0.0.0.0:1000","dataDir":"/from/file"}', "pksn.json");
  const env = layerFromEnv({ PKSN_LISTEN: "0.0.0.0:2000" });
  const config = resolveConfig(file, env);
  assert.equal(config.listen, "0.0.0.0:2000");
  assert.equal(config.dataDir, "/from/file");
});

Deno.test("command-line flags override the environment and the config file", () => {
  const file = layerFromFile(
    '{"listen":"0.0.0.0:1000","log":{"level":"warn","requests":true}}',
    "pksn.json",
  );
  const env = layerFromEnv({ PKSN_LISTEN: "0.0.0.0:2000", PKSN_LOG_LEVEL: "error" });
  const flags = layerFromFlags({ listen: "0.0.0.0:3000", log: { level: "debug" } });
  const config = resolveConfig(file, env, flags);
  assert.equal(config.listen, "0.0.0.0:3000");
  assert.equal(config.log.level, "debug");
  assert.equal(config.log.requests, true, "a nested field only the file sets survives");
});

Deno.test("layerFromEnv maps PKSN_LISTEN, PKSN_DATA and PKSN_LOG_LEVEL to their keys", () => {
  const layer = layerFromEnv({
    PKSN_LISTEN: "[::1]:9000",
    PKSN_DATA: "/var/lib/pksn",
    PKSN_LOG_LEVEL: "warn",
    HOME: "/root",
  });
  assert.deepEqual(layer, {
    listen: "[::1]:9000",
    dataDir: "/var/lib/pksn",
    log: { level: "warn" },
  });
});

Deno.test("layerFromEnv ignores empty variables", () => {
  assert.deepEqual(layerFromEnv({ PKSN_LISTEN: "", PKSN_DATA: "" }), {});
});

Deno.test('a bad PKSN_LISTEN names "listen", the variable and the expected form', () => {
  const message = configErrorOf(() => layerFromEnv({ PKSN_LISTEN: "nope" }));
  assert.match(message, /"listen"/);
  assert.match(message, /environment variable PKSN_LISTEN/);
  assert.match(message, /expected "HOST:PORT"/);
  assert.match(message, /got "nope"/);
});

Deno.test('a bad PKSN_LOG_LEVEL names "log.level" and its variable', () => {
  const message = configErrorOf(() => layerFromEnv({ PKSN_LOG_LEVEL: "verbose" }));
  assert.match(message, /"log\.level"/);
  assert.match(message, /environment variable PKSN_LOG_LEVEL/);
  assert.match(message, /"debug"/);
});

Deno.test("a negative lookup.unknownTtl in the file names the key, the file and the range", () => {
  const message = configErrorOf(() =>
    layerFromFile('{"lookup":{"unknownTtl":-5}}', "/etc/pksn/config.json")
  );
  assert.match(message, /"lookup\.unknownTtl"/);
  assert.match(message, /file "\/etc\/pksn\/config\.json"/);
  assert.match(message, /expected a whole number of seconds from 0 to 604800/);
  assert.match(message, /got -5/);
});

Deno.test("a fractional TTL in the file is rejected as not a whole number", () => {
  const message = configErrorOf(() => layerFromFile('{"lookup":{"defaultTtl":1.5}}', "c.json"));
  assert.match(message, /"lookup\.defaultTtl"/);
  assert.match(message, /whole number/);
});

Deno.test("an unknown top-level key in the file is rejected naming it", () => {
  const message = configErrorOf(() => layerFromFile('{"listne":"127.0.0.1:80"}', "c.json"));
  assert.match(message, /"listne"/);
  assert.match(message, /file "c\.json"/);
  assert.match(message, /unknown key/);
});

Deno.test("an unknown nested key in the file is rejected naming its full path", () => {
  const message = configErrorOf(() => layerFromFile('{"lookup":{"unknownTTL":5}}', "c.json"));
  assert.match(message, /"lookup\.unknownTTL"/);
  assert.match(message, /unknown key/);
});

Deno.test("a config file that is not JSON is rejected naming the file", () => {
  const message = configErrorOf(() => layerFromFile("{listen: 1", "/etc/pksn.json"));
  assert.match(message, /file "\/etc\/pksn\.json"/);
  assert.match(message, /not JSON/);
});

Deno.test("a config file holding a JSON array is rejected as not an object", () => {
  const message = configErrorOf(() => layerFromFile("[1, 2]", "c.json"));
  assert.match(message, /expected a JSON object/);
});

Deno.test("a bad flag is reported as coming from the command line", () => {
  const message = configErrorOf(() => layerFromFlags({ lookup: { maxBatchItems: 0 } }));
  assert.match(message, /"lookup\.maxBatchItems"/);
  assert.match(message, /from the command line/);
});

Deno.test("the resolved config is frozen, nested objects included", () => {
  const config = resolveConfig({ lookup: { unknownTtl: 10 } });
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.lookup));
  assert.ok(Object.isFrozen(config.store));
  assert.ok(Object.isFrozen(config.log));
  assert.throws(() => {
    (config.lookup as { unknownTtl: number }).unknownTtl = 1;
  }, TypeError);
});

Deno.test("resolveConfig does not change DEFAULTS", () => {
  resolveConfig({ lookup: { unknownTtl: 1 }, log: { level: "debug" } });
  assert.equal(DEFAULTS.lookup.unknownTtl, 300);
  assert.equal(DEFAULTS.log.level, "info");
});

Deno.test({
  name: "a nested flag given as undefined leaves the file's value in place",
  fn(): void {
    const file = layerFromFile('{"lookup":{"unknownTtl":7}}', "c.json");
    const flags = layerFromFlags({ lookup: { unknownTtl: undefined } });
    assert.equal(resolveConfig(file, flags).lookup.unknownTtl, 7);
  },
});

Deno.test('parseListen reads "[::1]:8080" as host ::1 and port 8080', () => {
  assert.deepEqual(parseListen("[::1]:8080"), { hostname: "::1", port: 8080 });
});

Deno.test('parseListen reads "127.0.0.1:0" and "localhost:65535"', () => {
  assert.deepEqual(parseListen("127.0.0.1:0"), { hostname: "127.0.0.1", port: 0 });
  assert.deepEqual(parseListen("localhost:65535"), { hostname: "localhost", port: 65535 });
});

Deno.test('parseListen rejects a port above 65535 such as "host:99999"', () => {
  assert.equal(parseListen("host:99999"), null);
  assert.equal(parseListen("host:65536"), null);
});

Deno.test("parseListen rejects a missing port, a bare IPv6 address and spaces", () => {
  assert.equal(parseListen("127.0.0.1"), null);
  assert.equal(parseListen("::1:8080"), null);
  assert.equal(parseListen("my host:80"), null);
  assert.equal(parseListen(":8080"), null);
});

Deno.test("upstream.url with credentials is refused and points to upstream.key", () => {
  assert.throws(
    () => layerFromFile('{"upstream":{"url":"https://node:secret@core.example:8443"}}', "p.json"),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.message,
        /"upstream\.url" from file "p\.json": must not carry credentials/,
      );
      assert.ok(!error.message.includes("secret@"), "the credentials are not echoed");
      return true;
    },
  );
});

Deno.test("a bad upstream.key is refused without echoing the key", () => {
  assert.throws(
    () => layerFromFile('{"upstream":{"key":"short"}}', "p.json"),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /"upstream\.key" from file "p\.json"/);
      assert.ok(!error.message.includes('short"'), "the key is not echoed");
      return true;
    },
  );
});
