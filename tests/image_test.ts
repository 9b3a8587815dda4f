/** The appliance files in image/ agree with pksn's own configuration rules. */
import assert from "node:assert/strict";
import { layerFromFile, resolveConfig } from "../src/core/config.ts";
import { ROOT } from "./_helpers.ts";

Deno.test("image/config.json passes pksn's configuration validation", async () => {
  const path = `${ROOT}image/config.json`;
  const config = resolveConfig(layerFromFile(await Deno.readTextFile(path), path));
  assert.equal(config.dataDir, "/var/lib/pksn");
  assert.ok(config.tls.cert && config.tls.key, "the appliance serves HTTPS");
});

Deno.test("image/pksn.service runs serve with the config and may write only the data folder", async () => {
  const unit = await Deno.readTextFile(`${ROOT}image/pksn.service`);
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}image/config.json`));
  // `deno task compile` lays the program out as /usr/bin/pksn (see scripts/compile/).
  assert.match(unit, /^ExecStart=\/usr\/bin\/pksn serve$/m);
  assert.match(unit, /^Environment=PKSN_CONFIG=\/etc\/pksn\/config\.json$/m);
  assert.match(unit, new RegExp(`^ReadWritePaths=${config.dataDir}$`, "m"));
  assert.match(unit, /^ProtectSystem=strict$/m);
  assert.match(unit, /^KillSignal=SIGTERM$/m);
  assert.match(unit, /^User=pksn$/m);
  assert.match(unit, /^NoNewPrivileges=true$/m);
  assert.match(unit, /^StateDirectory=pksn$/m);
  assert.match(unit, /^Restart=on-failure$/m);
});

Deno.test("the image's health check and console banner use the port the config listens on", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}image/config.json`));
  const port = String(config.listen).split(":").pop();
  const check = await Deno.readTextFile(`${ROOT}image/bin/pksn-healthcheck`);
  const banner = await Deno.readTextFile(`${ROOT}image/bin/pksn-banner`);
  assert.ok(check.includes(`https://127.0.0.1:${port}/healthz`));
  assert.ok(banner.includes(`PKSN_PORT:-${port}`));
  // The banner finds the token by the exact words the node logs.
  const serve = await Deno.readTextFile(`${ROOT}src/cli/serve.ts`);
  assert.ok(serve.includes("Admin setup token (one use, this run only): "));
  assert.ok(banner.includes("Admin setup token (one use, this run only): "));
});
