/**
 * The host a look-up uses is the host a browser visits. Inputs that split differently under
 * the WHATWG URL standard than under a plain "first slash ends the host" reading, checked
 * against fixed vectors (cases of the WHATWG URL test data, url/resources/urltestdata.json,
 * that change the host) and against Deno's own `URL`, which implements the standard.
 */
import assert from "node:assert/strict";
import { quote } from "../../src/core/errors.ts";
import { canonicalizeUrl } from "../../src/reputation/url.ts";
import { seededRandom } from "../_random.ts";

// [behaviour, input, canonical URL]
const WHATWG_VECTORS: [string, string, string][] = [
  [
    "reads a backslash after the host as a slash",
    "http://evil.example\\@good.com/",
    "http://evil.example/@good.com/",
  ],
  [
    "keeps a host whose path starts with a backslash",
    "http://good.com\\.evil.example/",
    "http://good.com/.evil.example/",
  ],
  [
    "reads backslashes after the scheme as slashes",
    "http:\\\\www.google.com\\foo",
    "http://www.google.com/foo",
  ],
  ["skips mixed slashes after the scheme", "http:/\\/\\evil.example/x", "http://evil.example/x"],
  [
    "reads a scheme without slashes",
    "http:www.google.com:8080/foo.html",
    "http://www.google.com/foo.html",
  ],
  ["reads three slashes as two", "http:///blah#ref", "http://blah/"],
  ["keeps a query after three slashes", "http:///blah?query#ref", "http://blah/?query"],
  ["reads parameters after three slashes as the host", "http:///blah;param", "http://blah;param/"],
  [
    "reads everything after three slashes",
    "http:///blah;param?query#ref",
    "http://blah;param/?query",
  ],
  ["drops empty user info", "http://@www.example.com", "http://www.example.com/"],
  ["drops user info without slashes", "http:a:@www.example.com", "http://www.example.com/"],
  ["drops user info up to the last @", "http://a@b@c/", "http://c/"],
  [
    "keeps an escaped backslash inside user info",
    "http://evil.example%5C@good.com/",
    "http://good.com/",
  ],
  [
    "drops user info before a backslash path",
    "http://a:b@evil.example:81\\x",
    "http://evil.example/x",
  ],
  ["removes tabs and newlines inside the host", "http://example\t.\norg", "http://example.org/"],
  ["strips leading C0 controls", " \x01http://evil.example/ ", "http://evil.example/"],
  ["reads a hex last part", "http://0x7f.0.0.0x7f", "http://127.0.0.127/"],
  ["keeps a non-number last part as a name", "http://0x7f.0.0.0x7g", "http://0x7f.0.0.0x7g/"],
  ["reads a two-part address", "http://192.0x00A80001", "http://192.168.0.1/"],
  ["unescapes an address once", "http://%30%78%63%30%2e%30%32%35%30.01", "http://192.168.0.1/"],
  [
    "unescapes an address with a trailing dot",
    "http://%30%78%63%30%2e%30%32%35%30.01%2e",
    "http://192.168.0.1/",
  ],
  ["reads hex and octal parts", "http://0Xc0.0250.01", "http://192.168.0.1/"],
  [
    "reads full-width digits as an address",
    "http://\uff11\uff12\uff17.0.0.1/",
    "http://127.0.0.1/",
  ],
  ["compresses an IPv6 host with an IPv4 tail", "http://[::127.0.0.1]", "http://[::7f00:1]/"],
  ["drops zero-width characters", "http://GOO\u200b\u2060\ufeffgoo.com", "http://googoo.com/"],
  ["drops a soft hyphen", "http://ev\u00adil.example/", "http://evil.example/"],
  [
    "reads an ideographic full stop as a dot",
    "http://www.foo\u3002bar.com",
    "http://www.foo.bar.com/",
  ],
  ["folds full-width letters", "http://\uff27\uff4f.com", "http://go.com/"],
  [
    "keeps sharp s (non-transitional IDNA)",
    "https://fa\u00df.ExAmPlE/",
    "https://xn--fa-hia.example/",
  ],
  ["unescapes a letter in the host", "http://EXAMPLE.%43OM/", "http://example.com/"],
];

for (const [behaviour, input, expected] of WHATWG_VECTORS) {
  Deno.test(`canonicalizeUrl ${behaviour}: ${quote(input)} becomes ${quote(expected)}`, () => {
    assert.equal(canonicalizeUrl(input).url, expected);
  });
}

Deno.test("canonicalizeUrl refuses a port that is not a number, as browsers do", () => {
  assert.throws(() => canonicalizeUrl("http://evil.example:8x/"), /port "8x" is not a number/);
  assert.throws(() => new URL("http://evil.example:8x/"));
});

const SCHEMES = [
  "http://",
  "https://",
  "HTTP:",
  "http:\\\\",
  "ws:/",
  "wss://",
  "ftp:///",
  "http:\\/",
];
const PIECES = [
  "a",
  "B",
  "evil",
  "example",
  ".",
  "..",
  "/",
  "\\",
  "@",
  ":",
  "%",
  "%2e",
  "%40",
  "%5C",
  "%2F",
  "%41",
  "%25",
  "?",
  "#",
  "\t",
  "\n",
  " ",
  "0x7f",
  "1",
  "255",
  "017",
  "[::1]",
  "\u00fc",
  "\u3002",
  "\u00ad",
  "xn--",
  "-",
  "_",
  "80",
  "\uff21",
  "\u200b",
  ";",
  "~",
  "!",
];

function hostOf(input: string): string {
  try {
    return canonicalizeUrl(input).host;
  } catch (err) {
    return `refused: ${(err as Error).message.replace(/^Invalid URL ".*": /, "")}`;
  }
}

Deno.test("canonicalizeUrl finds the host Deno's WHATWG URL finds, for 20,000 generated URLs", () => {
  const next = seededRandom(20261202);
  let compared = 0;
  for (let n = 0; n < 20_000; n++) {
    let input = SCHEMES[Math.floor(next() * SCHEMES.length)];
    const pieces = 1 + Math.floor(next() * 10);
    for (let p = 0; p < pieces; p++) input += PIECES[Math.floor(next() * PIECES.length)];
    let browser: URL;
    try {
      browser = new URL(input);
    } catch {
      continue; // A browser opens nothing; any answer (or refusal) is safe.
    }
    compared++;
    // The browser's host, canonicalised as Safe Browsing does, is what must be looked up
    // (a browser host of dots alone has no canonical form: both are refused then).
    const expected = hostOf(`http://${browser.hostname}/`);
    const actual = hostOf(input);
    assert.equal(actual, expected, `host of ${quote(input)} (browser: ${quote(browser.href)})`);
  }
  assert.ok(compared > 5_000, `only ${compared} generated URLs parsed`);
});
