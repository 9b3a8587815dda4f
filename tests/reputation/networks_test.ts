/** Source-network allow-lists for keyless protocols. */
import assert from "node:assert/strict";
import { NetworkList } from "../../src/reputation/mod.ts";

Deno.test("a network list admits the addresses inside its networks and nothing else", () => {
  const list = new NetworkList(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"], "dns.allow");
  assert.equal(list.admits("10.200.1.2"), true);
  assert.equal(list.admits("11.0.0.1"), false);
  assert.equal(list.admits("192.0.2.7"), true);
  assert.equal(list.admits("192.0.2.8"), false);
  assert.equal(list.admits("2001:db8:1::5"), true);
  assert.equal(list.admits("2001:db9::5"), false);
  assert.equal(list.admits("::ffff:10.1.2.3"), true, "a dual-stack socket's IPv4 peer");
  assert.equal(list.admits("not an address"), false);
  assert.equal(new NetworkList([], "dns.allow").admits("127.0.0.1"), false);
  assert.equal(new NetworkList(["fe80::/10"], "x").admits("fe80::1%eth0"), true);
});

Deno.test("a bad network in the list is refused naming the setting, the entry and the problem", () => {
  assert.throws(
    () => new NetworkList(["127.0.0.0/8", "10.0.0.1/8"], "compat.allow"),
    /compat\.allow\[1\]: Invalid CIDR "10\.0\.0\.1\/8": host bits are set; did you mean "10\.0\.0\.0\/8"/,
  );
  assert.throws(() => new NetworkList(["localhost"], "dns.allow"), /dns\.allow\[0\]: Invalid IP/);
});
