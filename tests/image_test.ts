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
  assert.match(unit, /^ExecStart=\/usr\/local\/bin\/pksn serve$/m);
  assert.match(unit, /^Environment=PKSN_CONFIG=\/etc\/pksn\/config\.json$/m);
  assert.match(unit, new RegExp(`^ReadWritePaths=${config.dataDir}$`, "m"));
  assert.match(unit, /^ProtectSystem=strict$/m);
  assert.match(unit, /^KillSignal=SIGTERM$/m);
});
