/**
 * The admin pages' colours meet WCAG 2 AA contrast (4.5:1 for text) for every text colour on
 * every background it is used on, read from the stylesheet the node serves.
 */
import assert from "node:assert/strict";
import { APP_CSS } from "../../src/admin/ui/assets/app_css.ts";

function colour(name: string): string {
  const m = new RegExp(`--${name}:\\s*(#[0-9a-f]{6})`, "i").exec(APP_CSS);
  assert.ok(m, `the stylesheet defines --${name}`);
  return m[1];
}

/** WCAG 2 relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function ratio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

Deno.test("every text colour of the admin pages has at least 4.5:1 contrast on its backgrounds", () => {
  const bg = colour("bg");
  const panel = colour("panel");
  const header = /\.top \{[^}]*background: (#[0-9a-f]{6})/i.exec(APP_CSS)![1];
  const keyBox = /\.key-box \{[^}]*background: (#[0-9a-f]{6})/i.exec(APP_CSS)![1];
  const pairs: [string, string, string][] = [];
  for (const text of ["ink", "muted", "accent", "bad", "ok", "warn"]) {
    pairs.push([`--${text} on --bg`, colour(text), bg], [
      `--${text} on --panel`,
      colour(text),
      panel,
    ]);
  }
  pairs.push(
    ["white on the header", "#ffffff", header],
    [
      "the header's error text",
      /\.signout \.error \{ color: (#[0-9a-f]{6})/i.exec(APP_CSS)![1],
      header,
    ],
    ["white on an --accent button", "#ffffff", colour("accent")],
    ["white on a --bad (danger) button", "#ffffff", colour("bad")],
    ["--ink on the new-key box", colour("ink"), keyBox],
  );
  const failing = pairs
    .map(([what, fg, back]) => [what, ratio(fg, back)] as const)
    .filter(([, r]) => r < 4.5)
    .map(([what, r]) => `${what}: ${r.toFixed(2)}:1`);
  assert.deepEqual(failing, []);
});

Deno.test("the contrast check finds a pale colour on white", () => {
  assert.ok(ratio("#999999", "#ffffff") < 4.5);
  assert.ok(ratio("#000000", "#ffffff") > 20);
});
