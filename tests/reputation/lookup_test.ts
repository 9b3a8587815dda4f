import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { InvalidInputError } from "../../src/core/errors.ts";
import { EntryRepository, ORIGIN_LOCAL, ORIGIN_MIRROR } from "../../src/store/entries.ts";
import { type IndexHolder, Reputation } from "../../src/reputation/lookup.ts";
import { buildIndex } from "../../src/reputation/reputation_index.ts";
import { importNdjson, withDb } from "../_helpers.ts";

const MD5 = "44d88612fea8a8f36de82e1278abb02f";
const SHA1 = "3395856ce81f2b7382dee72602f798b642f14140";
const SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
const NOW = Date.UTC(2026, 10, 28, 12);
const TTL = { unknown: 123, default: 4567 };

interface Listed {
  type: string;
  value?: string;
  verdict: string;
  [field: string]: unknown;
}

interface Fixture {
  db: DatabaseSync;
  reputation: Reputation;
  index: IndexHolder;
  /** Imports records without rebuilding the index. */
  add(records: Listed[], origin?: 0 | 1): Promise<void>;
  rebuild(): Promise<void>;
}

/** A Reputation over a real database holding `mirror` and `local` records, index built. */
async function withReputation(
  listings: { mirror?: Listed[]; local?: Listed[] },
  fn: (f: Fixture) => Promise<void> | void,
): Promise<void> {
  await withDb(async (db) => {
    await importNdjson(db, listings.mirror ?? [], ORIGIN_MIRROR);
    await importNdjson(db, listings.local ?? [], ORIGIN_LOCAL);
    const index: IndexHolder = { current: await buildIndex(db, { now: NOW }) };
    const reputation = new Reputation({ entries: new EntryRepository(db), index, ttl: TTL });
    await fn({
      db,
      reputation,
      index,
      add: (records, origin = ORIGIN_MIRROR) => importNdjson(db, records, origin),
      rebuild: async () => {
        index.current = await buildIndex(db, { now: NOW });
      },
    });
  });
}

Deno.test("a file listed by md5, sha1 and sha256 is found by each hash", async () => {
  const file = {
    type: "file",
    md5: MD5,
    sha1: SHA1,
    sha256: SHA256,
    verdict: "malicious",
    threat: "EICAR-Test-File",
  };
  await withReputation({ mirror: [file] }, ({ reputation }) => {
    for (const hash of [MD5, SHA1, SHA256]) {
      assert.deepEqual(reputation.lookup("file", hash), {
        type: "file",
        value: hash,
        verdict: "malicious",
        threat: "EICAR-Test-File",
        ttl: TTL.default,
        source: "mirror",
        via: "mirror",
      });
    }
  });
});

Deno.test("a file looked up in upper case is answered with lower-case hex", async () => {
  await withReputation(
    { mirror: [{ type: "file", value: MD5, verdict: "malicious" }] },
    ({ reputation }) => {
      const result = reputation.lookup("file", MD5.toUpperCase());
      assert.equal(result.value, MD5);
      assert.equal(result.verdict, "malicious");
    },
  );
});

Deno.test("a result carries the record's ttl, categories and ISO dates", async () => {
  const record = {
    type: "domain",
    value: "evil.example",
    verdict: "phishing",
    categories: ["bank", "lure"],
    ttl: 60,
    firstSeen: "2026-01-02T03:04:05Z",
    lastSeen: 1_800_000_000,
  };
  await withReputation({ mirror: [record] }, ({ reputation }) => {
    const result = reputation.lookup("domain", "evil.example");
    assert.equal(result.ttl, 60);
    assert.deepEqual(result.categories, ["bank", "lure"]);
    assert.equal(result.firstSeen, "2026-01-02T03:04:05Z");
    assert.equal(result.lastSeen, "2027-01-15T08:00:00Z");
  });
});

Deno.test("an unlisted object is unknown with the unknown TTL and source none", async () => {
  await withReputation(
    { mirror: [{ type: "domain", value: "evil.example", verdict: "malicious" }] },
    ({ reputation }) => {
      assert.deepEqual(reputation.lookup("file", SHA1), {
        type: "file",
        value: SHA1,
        verdict: "unknown",
        ttl: TTL.unknown,
        source: "none",
        via: "none",
      });
      assert.deepEqual(reputation.lookup("domain", "good.example"), {
        type: "domain",
        value: "good.example",
        verdict: "unknown",
        ttl: TTL.unknown,
        source: "none",
        via: "none",
      });
    },
  );
});

Deno.test("a malformed value throws InvalidInputError with the type's code", async () => {
  await withReputation({}, ({ reputation }) => {
    assert.throws(
      () => reputation.lookup("file", "abc"),
      (e: unknown) => e instanceof InvalidInputError && e.code === "invalid_hash",
    );
    assert.throws(
      () => reputation.lookup("domain", "a b"),
      (e: unknown) => e instanceof InvalidInputError && e.code === "invalid_domain",
    );
    assert.throws(
      () => reputation.lookup("cert", MD5),
      (e: unknown) => e instanceof InvalidInputError && e.code === "invalid_thumbprint",
    );
  });
});

Deno.test('a url listing "evil.example/" answers "http://a.b.evil.example/x/y?q=1"', async () => {
  await withReputation(
    { mirror: [{ type: "url", value: "evil.example/", verdict: "phishing" }] },
    ({ reputation }) => {
      assert.deepEqual(reputation.lookup("url", "http://a.b.evil.example/x/y?q=1"), {
        type: "url",
        value: "http://a.b.evil.example/x/y?q=1",
        verdict: "phishing",
        ttl: TTL.default,
        source: "mirror",
        match: { type: "url", value: "evil.example/" },
        via: "mirror",
      });
    },
  );
});

Deno.test("a url path-prefix listing answers deeper paths on the same host only", async () => {
  await withReputation(
    { mirror: [{ type: "url", value: "evil.example/kits/", verdict: "malicious" }] },
    ({ reputation }) => {
      assert.equal(
        reputation.lookup("url", "https://evil.example/kits/a/b.zip").verdict,
        "malicious",
      );
      assert.equal(reputation.lookup("url", "https://evil.example/other/").verdict, "unknown");
      assert.equal(reputation.lookup("url", "https://evil.example/").verdict, "unknown");
    },
  );
});

Deno.test("the most specific url listing wins over a broader one", async () => {
  await withReputation({
    mirror: [
      { type: "url", value: "evil.example/", verdict: "malicious" },
      { type: "url", value: "a.b.evil.example/x/", verdict: "phishing" },
      { type: "url", value: "shop.example/", verdict: "suspicious" },
      { type: "url", value: "shop.example/cart/pay", verdict: "phishing" },
    ],
  }, ({ reputation }) => {
    const deep = reputation.lookup("url", "http://a.b.evil.example/x/y?q=1");
    assert.equal(deep.verdict, "phishing");
    assert.deepEqual(deep.match, { type: "url", value: "a.b.evil.example/x/" });
    const exact = reputation.lookup("url", "http://shop.example/cart/pay");
    assert.deepEqual(exact.match, { type: "url", value: "shop.example/cart/pay" });
    assert.equal(reputation.lookup("url", "http://shop.example/cart/").verdict, "suspicious");
  });
});

Deno.test("a url falls back to a listing of its domain or a parent domain", async () => {
  await withReputation(
    { mirror: [{ type: "domain", value: "evil.example", verdict: "malicious" }] },
    ({ reputation }) => {
      const result = reputation.lookup("url", "https://www.evil.example/login?next=/");
      assert.equal(result.verdict, "malicious");
      assert.deepEqual(result.match, { type: "domain", value: "evil.example" });
      assert.equal(reputation.lookup("url", "https://notevil.example/").verdict, "unknown");
    },
  );
});

Deno.test("a url listing wins over a listing of the url's domain", async () => {
  await withReputation({
    mirror: [
      { type: "domain", value: "www.evil.example", verdict: "suspicious" },
      { type: "url", value: "evil.example/login", verdict: "phishing" },
    ],
  }, ({ reputation }) => {
    const result = reputation.lookup("url", "https://www.evil.example/login");
    assert.equal(result.verdict, "phishing");
    assert.deepEqual(result.match, { type: "url", value: "evil.example/login" });
  });
});

Deno.test("a url on an IP host falls back to the longest listed network", async () => {
  await withReputation({
    mirror: [
      { type: "ip", value: "203.0.113.0/24", verdict: "suspicious" },
      { type: "ip", value: "203.0.0.0/16", verdict: "malicious" },
      { type: "ip", value: "2001:db8::/32", verdict: "malicious" },
    ],
  }, ({ reputation }) => {
    const v4 = reputation.lookup("url", "http://203.0.113.9:8080/a");
    assert.equal(v4.verdict, "suspicious");
    assert.deepEqual(v4.match, { type: "ip", value: "203.0.113.0/24" });
    const v6 = reputation.lookup("url", "http://[2001:db8::5]/x");
    assert.deepEqual(v6.match, { type: "ip", value: "2001:db8::/32" });
    assert.equal(reputation.lookup("url", "http://198.51.100.1/").verdict, "unknown");
  });
});

Deno.test("a domain is answered by its most specific listed parent", async () => {
  await withReputation({
    mirror: [
      { type: "domain", value: "evil.example", verdict: "malicious" },
      { type: "domain", value: "c.evil.example", verdict: "clean" },
    ],
  }, ({ reputation }) => {
    const deep = reputation.lookup("domain", "A.B.C.Evil.Example.");
    assert.equal(deep.value, "a.b.c.evil.example");
    assert.equal(deep.verdict, "clean");
    assert.deepEqual(deep.match, { type: "domain", value: "c.evil.example" });
    const other = reputation.lookup("domain", "x.evil.example");
    assert.equal(other.verdict, "malicious");
    assert.deepEqual(other.match, { type: "domain", value: "evil.example" });
    assert.equal(reputation.lookup("domain", "notevil.example").verdict, "unknown");
  });
});

Deno.test("an internationalised domain is looked up in punycode", async () => {
  await withReputation(
    { mirror: [{ type: "domain", value: "xn--bcher-kva.example", verdict: "malicious" }] },
    ({ reputation }) => {
      const result = reputation.lookup("domain", "www.bücher.example");
      assert.equal(result.value, "www.xn--bcher-kva.example");
      assert.equal(result.verdict, "malicious");
    },
  );
});

Deno.test("an IP listed exactly wins over the networks that hold it", async () => {
  await withReputation({
    mirror: [
      { type: "ip", value: "10.0.0.0/8", verdict: "malicious" },
      { type: "ip", value: "10.1.0.0/16", verdict: "suspicious" },
      { type: "ip", value: "10.1.2.3", verdict: "clean" },
    ],
  }, ({ reputation }) => {
    const exact = reputation.lookup("ip", "10.1.2.3");
    assert.equal(exact.value, "10.1.2.3");
    assert.equal(exact.verdict, "clean");
    assert.deepEqual(exact.match, { type: "ip", value: "10.1.2.3/32" });
  });
});

Deno.test("an IP is answered by the longest listed network that holds it", async () => {
  await withReputation({
    mirror: [
      { type: "ip", value: "10.0.0.0/8", verdict: "malicious" },
      { type: "ip", value: "10.1.0.0/16", verdict: "suspicious" },
    ],
  }, ({ reputation }) => {
    assert.deepEqual(reputation.lookup("ip", "10.1.9.9").match, {
      type: "ip",
      value: "10.1.0.0/16",
    });
    assert.deepEqual(reputation.lookup("ip", "10.200.0.1").match, {
      type: "ip",
      value: "10.0.0.0/8",
    });
    assert.equal(reputation.lookup("ip", "11.0.0.1").verdict, "unknown");
    const network = reputation.lookup("ip", "10.1.0.0/24");
    assert.equal(network.value, "10.1.0.0/24");
    assert.equal(network.verdict, "suspicious");
    assert.equal(reputation.lookup("ip", "10.0.0.0/7").verdict, "unknown");
  });
});

Deno.test("IPv6 addresses match IPv6 networks, and IPv4-mapped ones match IPv4", async () => {
  await withReputation({
    mirror: [
      { type: "ip", value: "2001:db8::/32", verdict: "malicious" },
      { type: "ip", value: "2001:db8:1::/48", verdict: "suspicious" },
      { type: "ip", value: "192.0.2.0/24", verdict: "phishing" },
    ],
  }, ({ reputation }) => {
    assert.deepEqual(reputation.lookup("ip", "2001:DB8:1::7").match, {
      type: "ip",
      value: "2001:db8:1::/48",
    });
    assert.equal(reputation.lookup("ip", "2001:db8:2::7").verdict, "malicious");
    assert.equal(reputation.lookup("ip", "2001:db9::1").verdict, "unknown");
    const mapped = reputation.lookup("ip", "::ffff:192.0.2.10");
    assert.equal(mapped.value, "192.0.2.10");
    assert.equal(mapped.verdict, "phishing");
  });
});

Deno.test("a local override wins over the mirror row of the same object", async () => {
  await withReputation({
    mirror: [{ type: "file", value: SHA256, verdict: "malicious" }],
    local: [{ type: "file", value: SHA256, verdict: "clean" }],
  }, ({ reputation }) => {
    const result = reputation.lookup("file", SHA256);
    assert.equal(result.verdict, "clean");
    assert.equal(result.override, true);
    assert.equal(result.source, "operator");
  });
});

Deno.test("a local override of a parent wins over a more specific mirror listing", async () => {
  await withReputation({
    mirror: [
      { type: "domain", value: "a.evil.example", verdict: "malicious" },
      { type: "url", value: "a.evil.example/x/", verdict: "phishing" },
    ],
    local: [{ type: "domain", value: "evil.example", verdict: "clean" }],
  }, ({ reputation }) => {
    const domain = reputation.lookup("domain", "a.evil.example");
    assert.equal(domain.verdict, "clean");
    assert.equal(domain.override, true);
    assert.deepEqual(domain.match, { type: "domain", value: "evil.example" });
    const url = reputation.lookup("url", "http://a.evil.example/x/y");
    assert.equal(url.verdict, "clean");
    assert.equal(url.override, true);
  });
});

Deno.test("a local override of a network wins over a mirror host listing", async () => {
  await withReputation({
    mirror: [{ type: "ip", value: "192.0.2.7", verdict: "malicious" }],
    local: [{ type: "ip", value: "192.0.2.0/24", verdict: "clean" }],
  }, ({ reputation }) => {
    const result = reputation.lookup("ip", "192.0.2.7");
    assert.equal(result.verdict, "clean");
    assert.deepEqual(result.match, { type: "ip", value: "192.0.2.0/24" });
  });
});

Deno.test("a mirror answer carries no override flag", async () => {
  await withReputation({
    mirror: [{ type: "domain", value: "evil.example", verdict: "malicious" }],
    local: [{ type: "domain", value: "other.example", verdict: "clean" }],
  }, ({ reputation }) => {
    assert.equal(reputation.lookup("domain", "evil.example").override, undefined);
  });
});

Deno.test("lookupMany answers in input order with per-item errors", async () => {
  await withReputation(
    { mirror: [{ type: "domain", value: "evil.example", verdict: "malicious" }] },
    ({ reputation }) => {
      const results = reputation.lookupMany([
        { type: "domain", value: "evil.example" },
        { type: "file", value: "not-a-hash" },
        { type: "colour", value: "red" },
        { type: "domain", value: "good.example" },
      ]);
      assert.equal(results.length, 4);
      assert.equal((results[0] as { verdict: string }).verdict, "malicious");
      assert.deepEqual(Object.keys(results[1]), ["type", "value", "error"]);
      assert.equal((results[1] as { error: { code: string } }).error.code, "invalid_hash");
      assert.deepEqual(results[2], {
        type: "colour",
        value: "red",
        error: {
          code: "invalid_type",
          message: 'Unknown object type "colour": expected one of file, url, domain, ip, cert',
        },
      });
      assert.equal((results[3] as { verdict: string }).verdict, "unknown");
      assert.equal((results[3] as { value: string }).value, "good.example");
    },
  );
});

Deno.test("lookupMany of no items is an empty list", async () => {
  await withReputation({}, ({ reputation }) => {
    assert.deepEqual(reputation.lookupMany([]), []);
  });
});

// Look-ups trust the in-memory index to rule out misses, so a write made after the index was
// built stays invisible until the index is rebuilt: that is what Node.refreshIfChanged is for.
Deno.test("a record written after the index was built answers unknown until the index is rebuilt", async () => {
  await withReputation({}, async ({ reputation, add, rebuild }) => {
    await add([{ type: "domain", value: "late.example", verdict: "malicious" }]);
    assert.equal(reputation.lookup("domain", "late.example").verdict, "unknown");
    await rebuild();
    assert.equal(reputation.lookup("domain", "late.example").verdict, "malicious");
  });
});

Deno.test("a new IP prefix length is not tried until the index is rebuilt", async () => {
  await withReputation(
    { mirror: [{ type: "ip", value: "10.0.0.0/8", verdict: "malicious" }] },
    async ({ reputation, add, rebuild }) => {
      await add([{ type: "ip", value: "10.1.0.0/16", verdict: "clean" }]);
      assert.equal(reputation.lookup("ip", "10.1.2.3").verdict, "malicious");
      await rebuild();
      assert.equal(reputation.lookup("ip", "10.1.2.3").verdict, "clean");
    },
  );
});

Deno.test("an override written after the index was built is not seen until rebuilt", async () => {
  await withReputation(
    { mirror: [{ type: "domain", value: "a.evil.example", verdict: "malicious" }] },
    async ({ reputation, add, rebuild }) => {
      await add([{ type: "domain", value: "evil.example", verdict: "clean" }], ORIGIN_LOCAL);
      assert.equal(reputation.lookup("domain", "a.evil.example").verdict, "malicious");
      await rebuild();
      assert.equal(reputation.lookup("domain", "a.evil.example").verdict, "clean");
    },
  );
});
