/** The browser harness itself: Chromium starts, shows the node's pages, and sees every request. */
import assert from "node:assert/strict";
import { startTestNode, tempDir } from "../_helpers.ts";
import { browserTest, launchBrowser, openPage, screenshot } from "./_browser.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

browserTest(
  "Chromium shows the node's pages and records every request they make",
  async (t, browser) => {
    await using node = await startTestNode({ demo: true });

    await t.step("GET /healthz shows status ok and loads nothing from elsewhere", async () => {
      await using view = await openPage(browser, node.url);
      const response = await view.page.goto("/healthz");
      assert.equal(response?.status(), 200);
      assert.deepEqual(JSON.parse(await view.page.locator("pre").innerText()), { status: "ok" });
      view.assertOnlyFrom(node.url);
      assert.ok(view.requests.includes(new URL("/healthz", node.url).href), "no request recorded");
    });

    await t.step("GET /v1/statement shows the KSN Statement the API returns", async () => {
      await using view = await openPage(browser, node.url);
      await view.page.goto("/v1/statement");
      const shown = JSON.parse(await view.page.locator("pre").innerText());
      const served = await (await fetch(new URL("/v1/statement", node.url))).json();
      assert.deepEqual(shown, served);
      assert.match(shown.text, /KSN Statement/);
      view.assertOnlyFrom(node.url);
    });

    await t.step("screenshot writes a PNG", async () => {
      await using dir = await tempDir();
      await using view = await openPage(browser, node.url);
      await view.page.goto("/healthz");
      const path = await screenshot(view.page, "healthz", { dir: dir.path });
      const bytes = await Deno.readFile(path);
      assert.deepEqual([...bytes.subarray(0, 8)], PNG_SIGNATURE);
    });

    await t.step("assertOnlyFrom lists only the requests that left the page's origin", async () => {
      // A page on a second loopback server that pulls an image from the node.
      const nodeImage = new URL("/healthz", node.url).href;
      await using other = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        (req) => {
          if (req.headers.get("upgrade") !== "websocket") {
            return new Response(`<!doctype html><title>other</title><img src="${nodeImage}">`, {
              headers: { "content-type": "text/html; charset=utf-8" },
            });
          }
          const { socket, response } = Deno.upgradeWebSocket(req);
          socket.onopen = () => socket.close();
          return response;
        },
      );
      const otherURL = `http://127.0.0.1:${other.addr.port}`;
      await using view = await openPage(browser, otherURL);
      await view.page.goto("/");
      // The page's own blob: and WebSocket URLs are recorded, but are not outside its origin.
      await view.page.evaluate(async () => {
        await (await fetch(URL.createObjectURL(new Blob(["local"])))).text();
        const socket = new WebSocket(`ws://${location.host}/live`);
        await new Promise((closed) => socket.addEventListener("close", closed));
      });
      assert.ok(view.requests.includes(nodeImage), `no request for "${nodeImage}"`);
      assert.ok(view.requests.some((url) => url.startsWith("blob:")), "no blob: request");
      assert.ok(view.requests.includes(`ws://127.0.0.1:${other.addr.port}/live`), "no WebSocket");
      assert.throws(
        () => view.assertOnlyFrom(otherURL),
        (err: Error) =>
          err.message === `Page made 1 request(s) outside "${otherURL}": "${nodeImage}"`,
      );
      assert.throws(
        () => view.assertOnlyFrom(node.url),
        (err: Error) => err.message.includes(`"${otherURL}/"`),
      );
    });

    await t.step("a missing Chromium fails with how to install it", async () => {
      await assert.rejects(
        launchBrowser({ executablePath: "/nonexistent/chromium" }),
        (err: Error) =>
          err.message.startsWith('Cannot start Chromium "/nonexistent/chromium": not installed') &&
          err.message.includes('"apt-get install -y chromium"'),
      );
    });
  },
);
