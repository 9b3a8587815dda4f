/**
 * Browser test plumbing: Debian's Chromium driven by playwright-core, one browser per test file,
 * pages that record every request they make, and screenshots for docs/screenshots/.
 *
 * Deno's op, resource and exit sanitizers stay on: Playwright leaves nothing running once the
 * browser is closed, and `browserTest` closes it even when a step fails, so the sanitizers still
 * catch what a test itself leaks (a node not stopped, a server not shut down).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from "playwright-core";
import { ROOT } from "../_helpers.ts";

/** Where Debian's `chromium` package puts the browser; nothing downloads one of its own. */
export const CHROMIUM_PATH = "/usr/bin/chromium";
/** Where `screenshot` writes unless told otherwise. */
export const SCREENSHOT_DIR: string = join(ROOT, "docs/screenshots");

// Long enough for a loaded two-core CI, short enough that a missing element fails in seconds
// rather than after Playwright's default of 30.
const ACTION_TIMEOUT_MS = 10_000;

/** Starts headless Chromium; fails, never skips, when it is not installed. */
export async function launchBrowser(
  options: { executablePath?: string } = {},
): Promise<Browser> {
  const executablePath = options.executablePath ?? CHROMIUM_PATH;
  try {
    await Deno.stat(executablePath);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new Error(
      `Cannot start Chromium "${executablePath}": not installed ` +
        `(run "apt-get install -y chromium"; .ci/run installs it)`,
    );
  }
  return await chromium.launch({
    executablePath,
    headless: true,
    // Chromium's sandbox will not start as root, so Playwright then passes --no-sandbox.
    chromiumSandbox: Deno.uid() !== 0,
    // Containers often give /dev/shm too little room for Chromium's shared memory.
    args: ["--disable-dev-shm-usage"],
    // A Chromium that has not started in 30 s will not; Playwright's default waits 3 minutes.
    timeout: 30_000,
  });
}

/** A page in its own context that remembers the URL of every request made from it. */
export interface RecordingPage extends AsyncDisposable {
  page: Page;
  context: BrowserContext;
  /** Every request URL, in order: documents, assets, fetches, WebSockets, popups. */
  requests: readonly string[];
  /** Fails listing each request that went anywhere but `origin` (its blob: and ws: URLs and data: pass). */
  assertOnlyFrom(origin: string): void;
}

/** Opens a fresh context and page whose relative `goto`s resolve against `baseURL`. */
export async function openPage(
  browser: Browser,
  baseURL: string,
  options: BrowserContextOptions = {},
): Promise<RecordingPage> {
  const context = await browser.newContext({ ...options, baseURL });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  const requests: string[] = [];
  // On the context, not the page, so popups and workers are recorded too.
  context.on("request", (request) => requests.push(request.url()));
  context.on("page", (page) => page.on("websocket", (socket) => requests.push(socket.url())));
  const page = await context.newPage();
  return {
    page,
    context,
    requests,
    assertOnlyFrom(origin: string): void {
      const allowed = new URL(origin).origin;
      const outside = requests.filter((url) => !isFrom(url, allowed));
      if (outside.length > 0) {
        assert.fail(
          `Page made ${outside.length} request(s) outside "${allowed}": ` +
            outside.map((url) => `"${url}"`).join(", "),
        );
      }
    },
    async [Symbol.asyncDispose](): Promise<void> {
      await context.close();
    },
  };
}

function isFrom(url: string, origin: string): boolean {
  if (url.startsWith("data:")) return true;
  try {
    // A blob: URL has the origin of the page that made it; a WebSocket to the node is the node.
    return new URL(url).origin.replace(/^ws/, "http") === origin;
  } catch {
    return false;
  }
}

/** Writes a full-page PNG as `DIR/NAME.png` (docs/screenshots/ by default) and returns its path. */
export async function screenshot(
  page: Page,
  name: string,
  options: { dir?: string } = {},
): Promise<string> {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
    throw new Error(`Invalid screenshot name "${name}": use lower-case letters, digits, - and _`);
  }
  const dir = options.dir ?? SCREENSHOT_DIR;
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: "disabled", caret: "hide" });
  return path;
}

/**
 * One `Deno.test` with one browser for a whole file: write each check as a `t.step`.
 * The browser is closed when `fn` ends, whether it passed or threw.
 */
export function browserTest(
  name: string,
  fn: (t: Deno.TestContext, browser: Browser) => Promise<void>,
): void {
  Deno.test(name, async function withBrowser(t): Promise<void> {
    await using browser = await launchBrowser();
    await fn(t, browser);
  });
}
