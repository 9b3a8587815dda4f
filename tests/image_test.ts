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

// ---- upgrades (image/README.md, "Upgrades") ---------------------------------------------------

const BIN = `${ROOT}image/bin/`;

/** Whether `tool` is on PATH; tests that run the image's shell scripts need it there. */
function have(tool: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Runs `script` in sh with the image's upgrade helpers sourced, acting as the current user. */
async function withHelpers(script: string, dataDir: string): Promise<string> {
  const out = await new Deno.Command("sh", {
    args: [
      "-c",
      `set -eu; . "$1"; as_pksn() { "$@"; }; ${script}`,
      "sh",
      `${BIN}pksn-upgrade-common`,
    ],
    env: { PKSN_DATA: dataDir },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  assert.ok(out.success, `sh failed: ${text.decode(out.stderr)}`);
  return text.decode(out.stdout);
}

Deno.test("image/config.json enables the admin API's upgrade upload", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}image/config.json`));
  assert.equal(config.upgrade?.enabled, true);
});

Deno.test({
  name:
    "the image scripts' status file passes the node's upgrade status schema, in every state they write",
  ignore: !have("jq"),
  async fn(): Promise<void> {
    const { upgradeStatusSchema, UPGRADE_STATES } = await import("../src/upgrade/mod.ts");
    const dir = await Deno.makeTempDir({ prefix: "pksn-image-test-" });
    try {
      const states = new Set<string>();
      for (
        const name of [
          "pksn-upgrade",
          "pksn-upgrade-boot",
          "pksn-upgrade-trial",
          "pksn-upgrade-uploaded",
        ]
      ) {
        const text = await Deno.readTextFile(`${BIN}${name}`);
        for (const m of text.matchAll(/^\s*status ([a-z-]+) /gm)) states.add(m[1]);
      }
      states.add("failed"); // pksn-upgrade's fail()
      for (const state of states) {
        assert.ok(
          (UPGRADE_STATES as readonly string[]).includes(state),
          `unknown state "${state}"`,
        );
        await withHelpers(`status ${state} "A sentence" "0.5.0" "" b >/dev/null`, dir);
        const written = JSON.parse(await Deno.readTextFile(`${dir}/upgrade/status.json`));
        assert.deepEqual(upgradeStatusSchema.parse(written), written);
        assert.equal(written.to, null);
        assert.equal(written.slot, "b");
      }
      const mode = (await Deno.stat(`${dir}/upgrade/status.json`)).mode! & 0o777;
      assert.equal(mode, 0o644);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the image's upgrade scripts name the node's database and upload files", async () => {
  const common = await Deno.readTextFile(`${BIN}pksn-upgrade-common`);
  const node = await Deno.readTextFile(`${ROOT}src/node/node.ts`);
  const db = node.match(/join\(dataDir, "([^"]+)"\)/)?.[1];
  assert.equal(db, "pksn.db");
  assert.match(common, new RegExp(`^DB_FILES="${db} ${db}-wal ${db}-shm"$`, "m"));
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}image/config.json`));
  assert.match(common, new RegExp(`^DATA=\\$\\{PKSN_DATA:-${config.dataDir}\\}$`, "m"));
  const serve = await Deno.readTextFile(`${ROOT}src/cli/serve.ts`);
  assert.ok(serve.includes(`join(config.dataDir, "upgrade")`));
  const spool = await Deno.readTextFile(`${ROOT}src/upgrade/spool.ts`);
  assert.ok(spool.includes(`join(this.#dir, "bundle")`));
  const path = await Deno.readTextFile(`${ROOT}image/systemd/pksn-upgrade.path`);
  assert.match(path, new RegExp(`^PathExists=${config.dataDir}/upgrade/bundle$`, "m"));
});

Deno.test("the pending-upgrade record reads back, and a record with a bad slot is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pksn-image-test-" });
  try {
    await Deno.mkdir(`${dir}/upgrade`);
    const read =
      'read_pending && echo "$from_slot $to_slot $from_version $to_version $pending_boot"';
    const out = await withHelpers(`write_pending a b 0.5.0 0.6.0; ${read}`, dir);
    const bootId = (await Deno.readTextFile("/proc/sys/kernel/random/boot_id")).trim();
    assert.equal(out.trim(), `a b 0.5.0 0.6.0 ${bootId}`);
    await Deno.writeTextFile(`${dir}/upgrade/pending`, "format=1\nfrom_slot=a\nto_slot=../x\n");
    assert.equal((await withHelpers(`${read} || echo refused`, dir)).trim(), "refused");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GRUB passes pksn.trial=1 only on a trial boot, which alone may reboot for the node", async () => {
  const grub = await Deno.readTextFile(`${ROOT}image/grub.cfg`);
  assert.match(grub, /if \[ -n "\$next" \]; then set trial="pksn\.trial=1"; fi/);
  assert.match(grub, /menuentry "pksn, root slot \$pick \$trial" \{ boot_slot \$pick \$trial \}/);
  assert.match(grub, /menuentry "pksn, root slot \$other" \{ boot_slot \$other \}/);
  const trial = await Deno.readTextFile(`${ROOT}image/systemd/pksn-upgrade-trial.service`);
  assert.match(trial, /^ConditionKernelCommandLine=pksn\.trial=1$/m);
  // A committed slot with a broken configuration must not reboot in a loop.
  for (const unit of ["pksn.service", "systemd/pksn-healthcheck.service"]) {
    const text = await Deno.readTextFile(`${ROOT}image/${unit}`);
    assert.doesNotMatch(text, /FailureAction|SuccessAction|StartLimitAction/);
  }
  const boot = await Deno.readTextFile(`${ROOT}image/systemd/pksn-upgrade-boot.service`);
  assert.match(boot, /^Before=pksn\.service/m);
  assert.match(boot, /^RequiredBy=pksn\.service$/m);
});

Deno.test("the GRUB environment block stays 1024 bytes through set, and get reads it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pksn-image-test-" });
  try {
    const env = `${dir}/grubenv`;
    const run = async (...args: string[]): Promise<string> => {
      const out = await new Deno.Command(`${BIN}pksn-grubenv`, { args, stdout: "piped" }).output();
      assert.ok(out.success);
      return new TextDecoder().decode(out.stdout);
    };
    await run("write", env, "slot=a", "next=", "tries=", "machine_id=");
    await run("set", env, "next=b", "tries=3");
    assert.equal((await Deno.stat(env)).size, 1024);
    assert.equal((await run("get", env, "tries")).trim(), "3");
    assert.equal(await run("get", env), "slot=a\nnext=b\ntries=3\nmachine_id=\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "make-bundle signs a manifest that names the root's size and SHA-256",
  ignore: !have("zstd") || !have("openssl") || !have("jq"),
  async fn(): Promise<void> {
    const dir = await Deno.makeTempDir({ prefix: "pksn-image-test-" });
    try {
      const sh = async (script: string): Promise<string> => {
        const out = await new Deno.Command("bash", {
          args: ["-euo", "pipefail", "-c", script],
          cwd: dir,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder();
        assert.ok(out.success, text.decode(out.stderr));
        return text.decode(out.stdout);
      };
      await sh(
        "openssl genpkey -algorithm ed25519 -out key.pem && openssl pkey -in key.pem -pubout -out pub.pem" +
          " && head -c 1048576 /dev/urandom >root.ext4",
      );
      await sh(
        `"${ROOT}image/host/make-bundle" --root root.ext4 --key key.pem --arch x86_64 ` +
          "--version 0.5.0 --commit abc --schema 5 --out b.upgrade",
      );
      assert.equal(await sh("tar -tf b.upgrade"), "manifest.json\nmanifest.sig\nroot.ext4.zst\n");
      const manifest = JSON.parse(await sh("tar -xOf b.upgrade manifest.json"));
      assert.deepEqual(Object.keys(manifest), [
        "format",
        "arch",
        "version",
        "commit",
        "schema",
        "rootSize",
        "rootSha256",
        "built",
      ]);
      assert.equal(manifest.format, "pksn-upgrade/1");
      assert.equal(manifest.rootSize, 1048576);
      assert.equal(manifest.rootSha256, (await sh("sha256sum root.ext4")).split(" ")[0]);
      assert.equal(
        await sh("tar -xOf b.upgrade root.ext4.zst | zstd -dc | cmp - root.ext4 && echo same"),
        "same\n",
      );
      // The same check pksn-upgrade makes on the appliance.
      await sh(
        "tar -xOf b.upgrade manifest.json >m.json && tar -xOf b.upgrade manifest.sig >m.sig && " +
          "openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in m.json -sigfile m.sig",
      );
      const upgrade = await Deno.readTextFile(`${BIN}pksn-upgrade`);
      assert.ok(upgrade.includes(`FORMAT=${manifest.format}`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
