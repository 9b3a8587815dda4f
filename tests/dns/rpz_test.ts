/**
 * The RPZ zone against real resolvers' code: Debian's Unbound loads it from the node by zone
 * transfer and refuses a listed name while answering an allow-listed one; BIND's
 * named-checkzone accepts the file `pksn rpz export` writes; dig reads AXFR and IXFR.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { LocalOverrides } from "../../src/reputation/mod.ts";
import { fakeClock, runCli, runTool, tempDir } from "../_helpers.ts";
import { startDnsNode } from "./_fixture.ts";

/** dig's text of a transfer of rpz.test from the node at `port`. */
async function transfer(port: string, kind: string): Promise<string[]> {
  const out = await runTool("dig", ["@127.0.0.1", "-p", port, "+time=2", "rpz.test", kind]);
  return out.stdout.split("\n").filter((l) => l !== "" && !l.startsWith(";"))
    .map((l) => l.replace(/\s+/g, " "));
}

Deno.test("the RPZ zone, served and exported, as resolvers read it", async (t) => {
  await using node = await startDnsNode({ rpzIps: true });
  const port = String(node.port);

  await t.step(
    "AXFR of the RPZ zone gives blocked names with their wildcards, passthru overrides and rpz-ip triggers between two SOAs",
    async () => {
      const serial = node.serving.dns!.rpz!.serial;
      const lines = await transfer(port, "AXFR");
      const soa =
        `rpz.test. 300 IN SOA localhost. hostmaster.localhost. ${serial} 300 60 604800 300`;
      assert.equal(lines[0], soa);
      assert.equal(lines.at(-1), soa);
      for (
        const line of [
          "evil.example.rpz.test. 300 IN CNAME .",
          "*.evil.example.rpz.test. 300 IN CNAME .",
          "phish.example.rpz.test. 300 IN CNAME .",
          "good.evil.example.rpz.test. 300 IN CNAME rpz-passthru.",
          "*.good.evil.example.rpz.test. 300 IN CNAME rpz-passthru.",
          "32.7.100.51.198.rpz-ip.rpz.test. 300 IN CNAME .",
          "24.0.113.0.203.rpz-ip.rpz.test. 300 IN CNAME .",
          "32.zz.db8.2001.rpz-ip.rpz.test. 300 IN CNAME .",
        ]
      ) assert.ok(lines.includes(line), `${line} in\n${lines.join("\n")}`);
      // Suspicious and clean mirror entries make no policy.
      assert.ok(!lines.some((l) => l.includes("grey.example") || l.includes("fine.example")));
    },
  );

  await t.step(
    "pksn rpz export writes the zone named-checkzone loads, with the serial the node serves",
    async () => {
      await using dir = await tempDir();
      const file = join(dir.path, "pksn.rpz");
      const out = await runCli([
        "rpz",
        "export",
        "--out",
        file,
        "--zone",
        "rpz.test",
        "--ips",
        "--data",
        node.dataDir,
      ]);
      assert.equal(out.code, 0, out.stderr);
      const serial = node.serving.dns!.rpz!.serial;
      assert.match(out.stdout, new RegExp(`serial ${serial} .*: 5 blocked, 1 passed through`));
      const check = await runTool("named-checkzone", ["rpz.test", file]);
      assert.equal(check.code, 0, check.stdout + check.stderr);
      assert.match(check.stdout, new RegExp(`loaded serial ${serial}\\nOK`));
      const text = await Deno.readTextFile(file);
      assert.match(text, /^evil\.example\.rpz\.test\. CNAME \.$/m);
      assert.match(text, /^good\.evil\.example\.rpz\.test\. CNAME rpz-passthru\.$/m);
    },
  );

  await t.step(
    "a new listing moves the serial and IXFR from the old serial sends only the difference",
    async () => {
      const before = node.serving.dns!.rpz!.serial;
      const db = node.serving.node.db;
      const overrides = new LocalOverrides({ db, clock: fakeClock() });
      overrides.add(
        { type: "domain", value: "new.example", verdict: "malicious", reason: "t" },
        "test",
      );
      overrides.add(
        { type: "domain", value: "phish.example", verdict: "clean", reason: "t" },
        "test",
      );
      await node.serving.node.refreshIndex();
      await node.serving.dns!.refresh();
      const after = node.serving.dns!.rpz!.serial;
      assert.equal(after, before + 1);
      const lines = await transfer(port, `IXFR=${before}`);
      const soa = (s: number): string =>
        `rpz.test. 300 IN SOA localhost. hostmaster.localhost. ${s} 300 60 604800 300`;
      // The condensed form: new SOA, old SOA, what to delete, new SOA, what to add, new SOA.
      assert.deepEqual([lines[0], lines[1], lines.at(-1)], [soa(after), soa(before), soa(after)]);
      const middle = lines.indexOf(soa(after), 2);
      assert.deepEqual(lines.slice(2, middle).sort(), [
        "*.phish.example.rpz.test. 300 IN CNAME .",
        "phish.example.rpz.test. 300 IN CNAME .",
      ]);
      assert.deepEqual(lines.slice(middle + 1, -1).sort(), [
        "*.new.example.rpz.test. 300 IN CNAME .",
        "*.phish.example.rpz.test. 300 IN CNAME rpz-passthru.",
        "new.example.rpz.test. 300 IN CNAME .",
        "phish.example.rpz.test. 300 IN CNAME rpz-passthru.",
      ]);
      // A client that is current gets the SOA alone.
      assert.deepEqual(await transfer(port, `IXFR=${after}`), [soa(after)]);
    },
  );

  await t.step(
    "Unbound loads the zone by transfer: a listed name and its subdomains are refused, an allow-listed one is answered",
    async () => {
      await using dir = await tempDir();
      const unboundPort = freePort();
      await Deno.writeTextFile(
        join(dir.path, "example.zone"),
        [
          "example. 300 IN SOA localhost. hostmaster.localhost. 1 300 60 604800 300",
          "example. 300 IN NS localhost.",
          "evil.example. 300 IN A 192.0.2.66",
          "www.evil.example. 300 IN A 192.0.2.66",
          "good.evil.example. 300 IN A 192.0.2.10",
          "other.example. 300 IN A 192.0.2.20",
          "",
        ].join("\n"),
      );
      const conf = join(dir.path, "unbound.conf");
      await Deno.writeTextFile(
        conf,
        `server:
  interface: 127.0.0.1
  port: ${unboundPort}
  do-ip6: no
  username: ""
  chroot: ""
  directory: "${dir.path}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  do-daemonize: no
  verbosity: 1
  module-config: "respip iterator"
  access-control: 127.0.0.0/8 allow
auth-zone:
  name: "example."
  zonefile: "${join(dir.path, "example.zone")}"
  for-upstream: yes
  for-downstream: no
rpz:
  name: "rpz.test."
  primary: 127.0.0.1@${port}
`,
      );
      const check = await runTool("unbound-checkconf", [conf]);
      assert.equal(check.code, 0, check.stdout + check.stderr);
      const unbound = new Deno.Command("unbound", {
        args: ["-d", "-c", conf],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      try {
        const ask = async (name: string): Promise<string> => {
          const out = await runTool("dig", [
            "@127.0.0.1",
            "-p",
            String(unboundPort),
            "+time=1",
            "+tries=1",
            name,
            "A",
          ]);
          const status = /status: ([A-Z]+)/.exec(out.stdout)?.[1] ?? "none";
          const a = /\tIN\tA\t([\d.]+)/.exec(out.stdout)?.[1];
          return a === undefined ? status : `${status} ${a}`;
        };
        // Unbound asks for the zone as it starts; wait until a listed name is refused.
        const deadline = Date.now() + 10_000;
        while ((await ask("evil.example")) !== "NXDOMAIN" && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.equal(await ask("evil.example"), "NXDOMAIN");
        assert.equal(await ask("www.evil.example"), "NXDOMAIN");
        assert.equal(await ask("good.evil.example"), "NOERROR 192.0.2.10");
        assert.equal(await ask("other.example"), "NOERROR 192.0.2.20");
      } finally {
        unbound.kill("SIGTERM");
        const out = await unbound.output();
        if (Deno.env.get("DNS_TEST_DEBUG")) console.log(new TextDecoder().decode(out.stderr));
      }
    },
  );
});

function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  return port;
}
