import assert from "node:assert/strict";
import { AdminAuth } from "../../src/admin/mod.ts";
import { DEFAULTS } from "../../src/core/config.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { archiveFile } from "../../src/stats/mod.ts";
import { api, assertError, logIn, PASSWORD } from "../admin/_admin.ts";
import { type AuthNode, noon, record, startStatsNode } from "./_stats.ts";

const DAY1 = "2026-11-28";
const DAY2 = "2026-11-29";

/** A node with DAY1 packed (2 records), DAY2 open (1 record), and an admin account. */
async function nodeWithStats(): Promise<AuthNode> {
  const node = await startStatsNode();
  const { stats, node: opened } = node.serving;
  await new AdminAuth({
    db: opened.db,
    clock: node.clock,
    config: DEFAULTS.admin,
    secure: false,
    log: memoryLogger(),
  }).setPassword("admin", PASSWORD);
  await stats.ingest.accept(1, [record(), record({ verdict: "suspicious", threat: "HEUR:X" })]);
  node.clock.set(noon(DAY2));
  await stats.ingest.accept(1, [record()]);
  await stats.rollover.run();
  return node;
}

Deno.test("the statistics admin routes need an admin session", async () => {
  await using node = await nodeWithStats();
  for (const path of ["", `/${DAY1}`, `/${DAY1}/archive`]) {
    assertError(await api(node, `/admin/api/stats${path}`), 401, "admin_auth_required");
    const withKey = await api(node, `/admin/api/stats${path}`, {
      headers: { authorization: "Bearer SOME-LICENCE-KEY" },
    });
    assertError(withKey, 401, "admin_auth_required");
  }
});

Deno.test("GET /admin/api/stats lists the days with their counts", async () => {
  await using node = await nodeWithStats();
  const { cookie } = await logIn(node);
  const res = await api(node, "/admin/api/stats", { cookie });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.today, DAY2);
  assert.deepEqual(
    res.body.days.map((d: { date: string; records: number; archived: boolean }) => [
      d.date,
      d.records,
      d.archived,
    ]),
    [[DAY1, 2, true], [DAY2, 1, false]],
  );
});

Deno.test("GET /admin/api/stats/{date} counts by verdict and threat", async () => {
  await using node = await nodeWithStats();
  const { cookie } = await logIn(node);
  const res = await api(node, `/admin/api/stats/${DAY1}`, { cookie });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.records, 2);
  assert.deepEqual(res.body.verdicts, { malicious: 1, suspicious: 1 });
  assert.deepEqual(res.body.threats, { "HEUR:X": 1, "Trojan.Win32.Example.a": 1 });
  assertError(await api(node, "/admin/api/stats/2026-01-01", { cookie }), 404, "stats_not_found");
  assertError(await api(node, "/admin/api/stats/yesterday", { cookie }), 400, "invalid_date");
});

Deno.test("GET /admin/api/stats/{date}/archive downloads the day's TAR", async () => {
  await using node = await nodeWithStats();
  const { cookie } = await logIn(node);
  const res = await fetch(`${node.url}/admin/api/stats/${DAY1}/archive`, { headers: { cookie } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/x-tar");
  assert.equal(
    res.headers.get("content-disposition"),
    `attachment; filename="pksn-stats-${DAY1}.tar"`,
  );
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.deepEqual(bytes, await Deno.readFile(archiveFile(node.serving.stats.dir, DAY1)));
});

Deno.test("GET /admin/api/stats/{date}/archive answers 404 for today and for an unknown day", async () => {
  await using node = await nodeWithStats();
  const { cookie } = await logIn(node);
  assertError(
    await api(node, `/admin/api/stats/${DAY2}/archive`, { cookie }),
    404,
    "stats_not_found",
  );
  assertError(
    await api(node, "/admin/api/stats/2026-01-01/archive", { cookie }),
    404,
    "stats_not_found",
  );
});
