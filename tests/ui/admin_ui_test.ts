/**
 * The admin web UI end to end in Debian's Chromium: one browser, one node, the operator's
 * paths in order, located by role and label as assistive technology finds them. Every page
 * must load nothing from outside the node.
 *
 * Screenshots go to a temporary folder; with UPDATE_SCREENSHOTS=1 they replace the ones in
 * docs/screenshots/ that the README shows.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { browserTest, openPage, type RecordingPage, screenshot } from "./_browser.ts";
import { noon, record, startStatsNode } from "../stats/_stats.ts";

const USER = "operator";
const PASSWORD = "a long and fine passphrase";
const UNKNOWN_MD5 = "0123456789abcdef0123456789abcdef";
const DAY1 = "2026-11-28";
const DAY2 = "2026-11-29";

const updating = Deno.env.get("UPDATE_SCREENSHOTS") === "1";
const shots = updating ? undefined : await Deno.makeTempDir({ prefix: "pksn-screens-" });

async function shoot(page: Page, name: string): Promise<void> {
  const path = await screenshot(page, name, { dir: shots });
  assert.ok((await Deno.stat(path)).size > 10_000, `${name}.png has content`);
}

/** Signs in on the sign-in page. */
async function signIn(page: Page, password = PASSWORD): Promise<void> {
  await page.getByLabel("User name").fill(USER);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

browserTest("the admin web UI, driven in Chromium", async (t, browser) => {
  await using _shots = {
    async [Symbol.asyncDispose](): Promise<void> {
      if (shots !== undefined) await Deno.remove(shots, { recursive: true });
    },
  };
  await using node = await startStatsNode({ upgrade: { enabled: true } });
  const { serving } = node;
  // A packed day to download later: two records on DAY1, then the clock moves to DAY2.
  await serving.stats.ingest.accept(1, [
    record(),
    record({ verdict: "suspicious", threat: "HEUR:UI" }),
  ]);
  node.clock.set(noon(DAY2));
  await serving.stats.rollover.run();
  const token = /Admin setup token \(one use, this run only\): (\S+)/.exec(node.logLines.join("\n"))
    ?.[1];
  assert.ok(token, "serve logged the setup token");
  await using view: RecordingPage = await openPage(browser, node.url);
  const { page } = view;
  page.on("dialog", (dialog) => dialog.accept());

  await t.step(
    "the first visit asks for the setup token, then creates the account and signs in",
    async () => {
      await page.goto("/admin/");
      assert.match(page.url(), /\/admin\/setup$/);
      await page.getByLabel("Setup token").fill(token);
      await page.getByLabel("User name").fill(USER);
      await page.getByLabel("Password (at least 12 characters)").fill(PASSWORD);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("heading", { name: "Dashboard" }).waitFor();
      assert.match(page.url(), /\/admin\/$/);
      await page.getByRole("img", { name: /Look-ups per minute, last hour/ }).waitFor();
    },
  );

  await t.step(
    "signing out leads to the sign-in page, and signing in back to the dashboard",
    async () => {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await signIn(page);
      await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    },
  );

  await t.step("the operator reads the statement and changes the participation mode", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", {
      name: "KSN participation",
    }).click();
    await page.getByRole("heading", { name: "KSN participation" }).waitFor();
    await page.getByRole("button", { name: "Read the KSN Statement" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    const statement = serving.node.participation.statement!;
    assert.ok((await dialog.textContent())!.includes(statement.text.slice(0, 60)));
    await dialog.getByRole("button", { name: "Close" }).click();
    await page.getByRole("radio", { name: "Participate without statistics" }).check();
    await page.getByRole("checkbox", { name: /I have read and accept the KSN Statement/ }).check();
    await page.getByRole("button", { name: "Save participation" }).click();
    await page.getByText("Current mode: Participate without statistics").waitFor();
    assert.equal(serving.node.participation.state.mode, "without-statistics");
    await shoot(page, "participation");
  });

  let key = "";
  await t.step(
    "a licence added in the UI opens look-ups; revoked in the UI, it is refused",
    async () => {
      await page.goto("/admin/licences");
      await page.getByLabel("Customer", { exact: true }).fill("Browser Customer");
      await page.getByLabel("Expires (date)").fill("2027-12-31");
      await page.getByLabel("Quota (requests a minute; empty for none)").fill("5000");
      await page.getByRole("button", { name: "Add licence" }).click();
      const shown = page.locator("#new-key-text");
      await page.getByRole("status").getByText("shown only now").waitFor();
      key = (await shown.textContent())!.trim();
      assert.match(key, /^[A-Z0-9-]{16,}$/);
      const statement = await (await fetch(`${node.url}/v1/statement`)).json();
      const chose = await fetch(`${node.url}/v1/participation`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ mode: "without-statistics", statementVersion: statement.version }),
      });
      assert.equal(chose.status, 200, await chose.text());
      const ok = await fetch(`${node.url}/v1/files/${UNKNOWN_MD5}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(ok.status, 200, await ok.text());
      // Half an hour of traffic, one batch a minute, for the dashboard's chart.
      for (let minute = 0; minute < 30; minute++) {
        node.clock.set(noon(DAY2) + minute * 60_000);
        const items = Array.from({ length: 40 + (minute * 37) % 60 }, (_, i) => ({
          type: "file",
          value: (minute * 1000 + i).toString(16).padStart(32, "0"),
        }));
        const res = await fetch(`${node.url}/v1/lookup`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ items }),
        });
        assert.equal(res.status, 200, await res.text());
      }
      await page.goto("/admin/");
      await page.getByText(/unknown: [\d,]+ \(100\.0%\)/).waitFor();
      await page.getByRole("img", { name: /Look-ups per minute, last hour: [1-9][\d,]* in all/ })
        .waitFor();
      await shoot(page, "dashboard");

      await page.goto("/admin/licences?q=Browser");
      // The participation choice, one look-up and 30 batches, the last at 12:29.
      const usage = page.getByRole("cell", { name: /^\d+, 2026-11-29T12:29:00Z$/ });
      assert.equal(await usage.textContent(), "32, 2026-11-29T12:29:00Z");
      await shoot(page, "licences");
      const id = serving.node.licences.list({ text: "Browser" })[0].id;
      await page.getByText(`Manage licence ${id}`).click();
      await page.getByRole("textbox", { name: "Reason" }).fill("contract ended");
      await page.getByRole("button", { name: `Revoke licence ${id}` }).click();
      await page.getByRole("cell", { name: "revoked" }).waitFor();
      const refused = await fetch(`${node.url}/v1/files/${UNKNOWN_MD5}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const body = await refused.json();
      assert.equal(refused.status, 401);
      assert.equal(body.error.code, "license_revoked");
    },
  );

  await t.step("an override added in the UI changes the look-up box's verdict", async () => {
    await page.goto(`/admin/reputation?type=file&value=${UNKNOWN_MD5}`);
    await page.getByRole("heading", { name: /Verdict: unknown/ }).waitFor();
    await page.getByLabel("Override verdict").selectOption("malicious");
    await page.getByLabel("Reason", { exact: true }).fill("seen in our honeypot");
    await page.getByRole("button", { name: "Save override" }).click();
    await page.getByRole("heading", { name: /Verdict: malicious \(via override\)/ }).waitFor();
    await page.getByRole("cell", { name: "seen in our honeypot" }).waitFor();
  });

  await t.step("a packed day's statistics archive downloads as a TAR", async () => {
    await page.goto("/admin/statistics");
    await page.getByRole("heading", { name: "Samples", exact: true }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: `Download ${DAY1}.tar` }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `pksn-stats-${DAY1}.tar`);
    const bytes = await Deno.readFile((await download.path())!);
    assert.equal(new TextDecoder().decode(bytes.subarray(257, 262)), "ustar");
  });

  await t.step("the system page shows the version and takes an upgrade bundle", async () => {
    await page.goto("/admin/system");
    await page.getByRole("heading", { name: "System", exact: true }).waitFor();
    await page.getByText(/^pksn \d+\.\d+\.\d+/).waitFor();
    await page.getByText("No upgrade has run on this node.").waitFor();
    const bundle = new TextEncoder().encode("an upgrade bundle for the UI test\n");
    await page.getByLabel(/Upgrade bundle/).setInputFiles({
      name: "pksn-x86_64.upgrade",
      mimeType: "application/octet-stream",
      buffer: Buffer.from(bundle),
    });
    await page.getByRole("button", { name: "Upload and upgrade" }).click();
    await page.getByText("uploaded", { exact: true }).waitFor();
    await page.getByText("An upgrade is under way").waitFor();
    const stored = await Deno.readFile(`${node.dataDir}/upgrade/bundle`);
    assert.deepEqual(stored, bundle);
  });

  await t.step("the other pages render for a signed-in operator", async () => {
    for (const [path, heading] of [["/admin/sync", "Mirror sync"], ["/admin/audit", "Audit log"]]) {
      await page.goto(path);
      await page.getByRole("heading", { name: heading, exact: true }).waitFor();
    }
    await page.getByRole("cell", { name: "licence.revoke" }).waitFor();
  });

  await t.step("every page fits a phone-width screen without scrolling sideways", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (
      const path of [
        "/admin/",
        "/admin/participation",
        "/admin/licences",
        "/admin/reputation",
        "/admin/statistics",
        "/admin/audit",
        "/admin/sync",
        "/admin/system",
      ]
    ) {
      await page.goto(path);
      const width = await page.evaluate("document.documentElement.scrollWidth") as number;
      assert.ok(width <= 390, `${path} is ${width} px wide at 390 px`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await t.step("failed sign-ins lock the account, and the page says for how long", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    for (let i = 0; i < node.config.admin.maxFailures; i++) {
      await signIn(page, "not the password at all");
      await page.getByRole("alert").filter({ hasText: /Wrong username or password|Too many/ })
        .waitFor();
    }
    await signIn(page, PASSWORD);
    await page.getByRole("alert").filter({
      hasText: /Too many failed logins .* try again in \d+ s/,
    })
      .waitFor();
    assert.match(page.url(), /\/admin\/login$/);
  });

  await t.step("no page loaded anything from outside the node", () => {
    assert.ok(view.requests.length > 20, `the pages made requests: ${view.requests.length}`);
    view.assertOnlyFrom(node.url);
  });
});
