/**
 * DNS look-ups asked with Debian's dig, over UDP and TCP: Team Cymru MHR style hashes, DNSBL
 * style addresses, domains; NXDOMAIN for unknown and clean; REFUSED outside the zone or the
 * allow-list; and hostile messages that must not stall or crash the node.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { Buffer } from "node:buffer";
import { dig, EICAR, startDnsNode } from "./_fixture.ts";

/** Sends one datagram to the node and resolves to the reply, or null after 500 ms. */
function datagram(port: number, bytes: Uint8Array): Promise<Buffer | null> {
  const socket = dgram.createSocket("udp4");
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(null), 500);
    const done = (reply: Buffer | null): void => {
      clearTimeout(timer);
      socket.close(() => resolve(reply));
    };
    socket.on("message", (reply) => done(reply));
    socket.send(bytes, port, "127.0.0.1");
  });
}

/** A query for `name` A, as bytes, with the header fields a test wants to break. */
function query(
  name: string,
  header: { id?: number; flags?: number; qd?: number } = {},
): Uint8Array {
  const labels = name.split(".").flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
  const qd = header.qd ?? 1;
  const id = header.id ?? 0x1234;
  const flags = header.flags ?? 0x0100;
  return Uint8Array.of(
    id >> 8,
    id & 0xff,
    flags >> 8,
    flags & 0xff,
    0,
    qd,
    0,
    0,
    0,
    0,
    0,
    0,
    ...labels,
    0,
    0,
    1,
    0,
    1,
  );
}

Deno.test("DNS look-ups answered as MHR and DNSBL clients expect", async (t) => {
  await using node = await startDnsNode({ allow: ["127.0.0.1"] });
  const { port } = node;
  const zone = "pksn.test";

  await t.step(
    "a listed MD5 answers A 127.0.0.2 with the record's TTL, over UDP and over TCP",
    async () => {
      for (const transport of ["+notcp", "+tcp"]) {
        const r = await dig(port, [transport, `${EICAR.md5}.${zone}`, "A"]);
        assert.equal(r.status, "NOERROR");
        assert.match(r.flags, /\baa\b/);
        assert.equal(r.answers.length, 1);
        assert.match(
          r.answers[0],
          new RegExp(`^${EICAR.md5}\\.${zone}\\.\\s+600\\s+IN\\s+A\\s+127\\.0\\.0\\.2$`),
        );
      }
    },
  );

  await t.step('TXT says "<last seen epoch> <verdict> <threat>"', async () => {
    const r = await dig(port, [`${EICAR.sha1}.${zone}`, "TXT"]);
    assert.equal(r.status, "NOERROR");
    const epoch = Date.UTC(2026, 10, 1) / 1000;
    assert.match(r.answers[0], new RegExp(`TXT\\s+"${epoch} malicious EICAR-Test-File"$`));
  });

  await t.step("a SHA-256 is asked as two labels of 32 hex digits, in any case", async () => {
    const name = `${EICAR.sha256.slice(0, 32).toUpperCase()}.${EICAR.sha256.slice(32)}.${zone}`;
    const r = await dig(port, [name, "A"]);
    assert.equal(r.status, "NOERROR");
    assert.match(r.answers[0], /A\s+127\.0\.0\.2$/);
    // The question comes back as asked: resolvers check the case they sent.
    assert.ok(r.answers[0].startsWith(EICAR.sha256.slice(0, 32).toUpperCase()));
  });

  await t.step(
    "reversed IPv4 (DNSBL style) answers for a listed address and for one in a listed network",
    async () => {
      assert.equal((await dig(port, [`7.100.51.198.${zone}`, "A"])).status, "NOERROR");
      const inNet = await dig(port, [`9.113.0.203.${zone}`, "TXT"]);
      assert.equal(inNet.status, "NOERROR");
      assert.match(inNet.answers[0], /"0 phishing -"/);
      assert.equal((await dig(port, [`8.100.51.198.${zone}`, "A"])).status, "NXDOMAIN");
    },
  );

  await t.step("reversed IPv6 nibbles answer for an address in a listed network", async () => {
    const nibbles = "2001:0db8:0000:0000:0000:0000:0000:0001".replaceAll(":", "").split("")
      .reverse();
    assert.equal((await dig(port, [`${nibbles.join(".")}.${zone}`, "A"])).status, "NOERROR");
  });

  await t.step(
    "a listed domain answers for itself and its subdomains; suspicious ones are listed too",
    async () => {
      for (const name of ["evil.example", "a.b.evil.example", "phish.example", "grey.example"]) {
        const r = await dig(port, [`${name}.${zone}`, "A"]);
        assert.equal(r.status, "NOERROR", name);
        assert.match(r.answers[0], /127\.0\.0\.2$/, name);
      }
    },
  );

  await t.step(
    "unknown, clean and allow-listed objects are NXDOMAIN with the SOA and the negative TTL",
    async () => {
      for (
        const name of [
          "0123456789abcdef0123456789abcdef",
          "fine.example",
          "good.evil.example",
          "nothing.example",
          "not-a-hash",
        ]
      ) {
        const r = await dig(port, [`${name}.${zone}`, "A"]);
        assert.equal(r.status, "NXDOMAIN", name);
        assert.equal(r.answers.length, 0);
        assert.match(r.authority[0], /^pksn\.test\.\s+300\s+IN\s+SOA\s+localhost\. /, name);
      }
    },
  );

  await t.step("a listed name has no AAAA: NOERROR without answers (NODATA)", async () => {
    const r = await dig(port, [`${EICAR.md5}.${zone}`, "AAAA"]);
    assert.equal(r.status, "NOERROR");
    assert.equal(r.answers.length, 0);
    assert.match(r.authority[0], /SOA/);
  });

  await t.step("the zone's apex answers SOA and NS", async () => {
    assert.match(
      (await dig(port, [zone, "SOA"])).answers[0],
      /SOA\s+localhost\. hostmaster\.localhost\. 1 /,
    );
    assert.match((await dig(port, [zone, "NS"])).answers[0], /NS\s+localhost\.$/);
  });

  await t.step(
    "names outside the zones, other classes and AXFR of the look-up zone are REFUSED",
    async () => {
      assert.equal((await dig(port, ["example.com", "A"])).status, "REFUSED");
      assert.equal((await dig(port, ["xpksn.test", "A"])).status, "REFUSED");
      assert.equal((await dig(port, ["-c", "CH", "version.bind", "TXT"])).status, "REFUSED");
      assert.equal(
        (await dig(port, ["-c", "CH", `${EICAR.md5}.${zone}`, "TXT"])).status,
        "REFUSED",
      );
      const axfr = await dig(port, [zone, "AXFR"]);
      assert.match(axfr.text, /Transfer failed/);
    },
  );

  await t.step("a client outside dns.allow is REFUSED, over UDP and TCP", async () => {
    for (const transport of ["+notcp", "+tcp"]) {
      const r = await dig(port, ["-b", "127.0.0.3", transport, `${EICAR.md5}.${zone}`, "A"]);
      assert.equal(r.status, "REFUSED");
      assert.equal(r.answers.length, 0);
    }
  });

  await t.step(
    "malformed datagrams are dropped or answered FORMERR/NOTIMP, and the node keeps answering",
    async () => {
      assert.equal(await datagram(port, Uint8Array.of(1, 2, 3)), null, "shorter than a header");
      const response = query(`${EICAR.md5}.${zone}`, { flags: 0x8100 });
      assert.equal(await datagram(port, response), null, "a response is never answered");
      const rcode = (reply: Buffer | null): number => reply === null ? -1 : reply[3] & 0xf;
      assert.equal(
        rcode(await datagram(port, query(zone, { qd: 2 }))),
        1,
        "two questions: FORMERR",
      );
      assert.equal(rcode(await datagram(port, query(zone, { qd: 0 }))), 1, "no question: FORMERR");
      const cut = query(`${EICAR.md5}.${zone}`).subarray(0, 30);
      assert.equal(rcode(await datagram(port, cut)), 1, "cut short: FORMERR");
      assert.equal(
        rcode(await datagram(port, query(zone, { flags: 0x2100 }))),
        4,
        "opcode 4: NOTIMP",
      );
      const loop = Uint8Array.of(0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1);
      assert.equal(rcode(await datagram(port, loop)), 1, "a compression loop: FORMERR");
      const junk = new Uint8Array(4000).map((_, i) => (i * 131) & 0xff);
      const junkReply = await datagram(port, junk);
      assert.ok(junkReply === null || junkReply.length <= 512, "never more than asked for");
      const after = await dig(port, [`${EICAR.md5}.${zone}`, "A"]);
      assert.equal(after.status, "NOERROR");
    },
  );

  await t.step(
    "TCP: a message cut short, a length below a header and an idle client close only their connection",
    async () => {
      const conns = [];
      for (
        const bytes of [
          Uint8Array.of(0, 40, 1, 2, 3),
          Uint8Array.of(0, 3, 1, 2, 3),
          new Uint8Array(0),
        ]
      ) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        await conn.write(bytes);
        conns.push(conn);
      }
      const r = await dig(port, ["+tcp", `${EICAR.md5}.${zone}`, "A"]);
      assert.equal(r.status, "NOERROR");
      // The short-length one is closed at once: reading gives end of stream.
      assert.equal(await conns[1].read(new Uint8Array(10)), null);
      for (const conn of conns) conn.close();
    },
  );
});
