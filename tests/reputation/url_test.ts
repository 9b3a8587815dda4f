import assert from "node:assert/strict";
import { InvalidInputError, quote } from "../../src/core/errors.ts";
import { canonicalizeUrl, urlExpression, urlExpressions } from "../../src/reputation/url.ts";
import { statusOf } from "../../src/http/mod.ts";

/** Asserts that fn throws invalid_url naming the input; returns the error. */
function assertInvalidUrl(fn: () => unknown, input: string): InvalidInputError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${error}`);
    assert.equal(error.code, "invalid_url");
    assert.ok(error.message.startsWith(`Invalid URL ${quote(input)}: `), error.message);
    return error;
  }
  assert.fail(`expected invalid_url for ${quote(input)}`);
}

// The canonicalisation vectors published in the Safe Browsing v4 "URLs and Hashing" spec,
// in its order. [behaviour, input, canonical URL]
const SPEC_VECTORS: [string, string, string][] = [
  ["unescapes repeatedly", "http://host/%25%32%35", "http://host/%25"],
  ["unescapes repeated escapes", "http://host/%25%32%35%25%32%35", "http://host/%25%25"],
  ["unescapes deeply nested escapes", "http://host/%2525252525252525", "http://host/%25"],
  ["unescapes inside a word", "http://host/asdf%25%32%35asd", "http://host/asdf%25asd"],
  ["escapes stray percent signs", "http://host/%%%25%32%35asd%%", "http://host/%25%25%25asd%25%25"],
  ["keeps a canonical URL", "http://www.google.com/", "http://www.google.com/"],
  [
    "unescapes an escaped IP host and path",
    "http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/",
    "http://168.188.99.26/.secure/www.ebay.com/",
  ],
  [
    "keeps escaped spaces in the path",
    "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
    "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
  ],
  [
    "escapes only what the spec escapes",
    "http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B",
    "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+",
  ],
  ["reads a decimal IP host", "http://3279880203/blah", "http://195.127.0.11/blah"],
  ["resolves a trailing ..", "http://www.google.com/blah/..", "http://www.google.com/"],
  ["adds http to a URL without scheme", "www.google.com/", "http://www.google.com/"],
  ["adds http and a path", "www.google.com", "http://www.google.com/"],
  ["drops the fragment", "http://www.evil.com/blah#frag", "http://www.evil.com/blah"],
  ["lower-cases the host", "http://www.GOOgle.com/", "http://www.google.com/"],
  ["trims trailing dots from the host", "http://www.google.com.../", "http://www.google.com/"],
  [
    "removes tab, CR and LF",
    "http://www.google.com/foo\tbar\rbaz\n2",
    "http://www.google.com/foobarbaz2",
  ],
  ["keeps an empty query", "http://www.google.com/q?", "http://www.google.com/q?"],
  ["keeps a ? inside the query", "http://www.google.com/q?r?", "http://www.google.com/q?r?"],
  ["keeps a query with two ?", "http://www.google.com/q?r?s", "http://www.google.com/q?r?s"],
  ["drops everything after the first #", "http://evil.com/foo#bar#baz", "http://evil.com/foo"],
  ["keeps a ; in the path", "http://evil.com/foo;", "http://evil.com/foo;"],
  ["keeps a ; in the query", "http://evil.com/foo?bar;", "http://evil.com/foo?bar;"],
  // The spec's input holds the raw byte 0x80, which a JS string cannot carry ("\x80" is
  // U+0080, two bytes in UTF-8), so the byte is written here as its escape.
  ["escapes control bytes in the host", "http://\x01%80.com/", "http://%01%80.com/"],
  ["adds a missing path", "http://notrailingslash.com", "http://notrailingslash.com/"],
  ["drops the port", "http://www.gotaport.com:1234/", "http://www.gotaport.com/"],
  ["trims surrounding spaces", "  http://www.google.com/  ", "http://www.google.com/"],
  [
    "escapes a leading space in the host",
    "http:// leadingspace.com/",
    "http://%20leadingspace.com/",
  ],
  [
    "keeps an escaped space in the host",
    "http://%20leadingspace.com/",
    "http://%20leadingspace.com/",
  ],
  ["escapes a space host without scheme", "%20leadingspace.com/", "http://%20leadingspace.com/"],
  ["keeps https", "https://www.securesite.com/", "https://www.securesite.com/"],
  ["keeps an escaped # in the path", "http://host.com/ab%23cd", "http://host.com/ab%23cd"],
  [
    "collapses slashes in the path but not the query",
    "http://host.com//twoslashes?more//slashes",
    "http://host.com/twoslashes?more//slashes",
  ],
];

// Further vectors from Google's Go client (urls_test.go) and this project's own cases.
const MORE_VECTORS: [string, string, string][] = [
  ["unescapes the scheme separator", "http%3A%2F%2Fwackyurl.com:80/", "http://wackyurl.com/"],
  ["keeps ftp", "ftp://ftp.myfiles.com/", "ftp://ftp.myfiles.com/"],
  ["escapes with upper-case hex", "http://some%1bhost.com/%1b", "http://some%1Bhost.com/%1B"],
  ["converts a Unicode host to punycode", "http://www.ümlat.com/", "http://www.xn--mlat-zra.com/"],
  ["converts an escaped UTF-8 host", "http://www.%C3%BCmlat.com/", "http://www.xn--mlat-zra.com/"],
  ["escapes non-ASCII path bytes as UTF-8", "http://example.com/ü", "http://example.com/%C3%BC"],
  ["keeps odd host characters", "http://W!eird<>Ho$^.com/", "http://w!eird<>ho$^.com/"],
  [
    "keeps many dots",
    "http://i.have.way.too.many.dots.com/",
    "http://i.have.way.too.many.dots.com/",
  ],
  ["trims a dot before the port", "http://google.com.:8080/foo.html", "http://google.com/foo.html"],
  ["collapses runs of dots", "http://google...com/foo.html", "http://google.com/foo.html"],
  ["trims leading dots", "http://..google.com/foo.html", "http://google.com/foo.html"],
  ["reads four hex host parts", "http://0x12.0x43.0x44.0x01", "http://18.67.68.1/"],
  [
    "drops the port of an IP host",
    "http://192.168.0.1:80/index.html",
    "http://192.168.0.1/index.html",
  ],
  ["keeps a canonical IPv6 host", "http://[2001:470:1:18::114]/", "http://[2001:470:1:18::114]/"],
  [
    "lower-cases an IPv6 host and drops its port",
    "http://[FEDC:BA98:7654:3210:FEDC:BA98:7654:3210]:80/index.html",
    "http://[fedc:ba98:7654:3210:fedc:ba98:7654:3210]/index.html",
  ],
  ["compresses an IPv6 host", "http://[2001:0db8:0000::1]/", "http://[2001:db8::1]/"],
  ["turns a mapped IPv6 host into IPv4", "http://[::ffff:1.2.3.4]/", "http://1.2.3.4/"],
  ["turns a NAT64 host into IPv4", "http://[64:ff9b::1.2.3.4]/", "http://1.2.3.4/"],
  [
    "resolves . and .. segments",
    "http://a.com/foo/.././bar/./../foo.html",
    "http://a.com/foo.html",
  ],
  ["collapses runs of slashes", "http://a.com//a//b///c////", "http://a.com/a/b/c/"],
  ["keeps a trailing slash after ..", "http://a.com/a/b/..", "http://a.com/a/"],
  ["never climbs above the root", "http://a.com/../../x", "http://a.com/x"],
  [
    "reads a host with a port and no scheme",
    "www.google.com:8080/foo.html",
    "http://www.google.com/foo.html",
  ],
  ["reads a bare host and port", "www.google.com:80", "http://www.google.com/"],
  ["drops an empty port", "http://example.com:/a", "http://example.com/a"],
  ["drops user info", "HTTPS://User:Pass@Example.COM:8443/a", "https://example.com/a"],
  ["adds a path before a query", "http://example.com?x", "http://example.com/?x"],
  ["splits the query after unescaping", "http://example.com/a%3Fb", "http://example.com/a?b"],
];

for (const [behaviour, input, expected] of [...SPEC_VECTORS, ...MORE_VECTORS]) {
  Deno.test(`canonicalizeUrl ${behaviour}: ${quote(input)} becomes ${quote(expected)}`, () => {
    assert.equal(canonicalizeUrl(input).url, expected);
  });
}

Deno.test("canonicalizeUrl returns scheme, host, path and query separately", () => {
  assert.deepEqual(canonicalizeUrl("HTTP://User@WWW.Example.COM:8080/a/./b/../c?x=1#frag"), {
    scheme: "http",
    host: "www.example.com",
    path: "/a/c",
    query: "x=1",
    url: "http://www.example.com/a/c?x=1",
  });
});

Deno.test('canonicalizeUrl tells an empty query ("") from none (null)', () => {
  assert.equal(canonicalizeUrl("http://a.com/q?").query, "");
  assert.equal(canonicalizeUrl("http://a.com/q").query, null);
});

Deno.test("canonicalizeUrl accepts exactly 8192 characters", () => {
  const input = `http://a.com/${"x".repeat(8192 - 13)}`;
  assert.equal(canonicalizeUrl(input).url, input);
});

const NO_HOST = "expected a host name or IP address";
const NOT_PORT = 'expected only a port after the "]" of the IPv6 host';

function unsupported(scheme: string): string {
  return `scheme ${quote(scheme)} is not supported; expected http, https, ftp, ftps, ws or wss`;
}

// [behaviour, input, what the message says after the colon]
const INVALID_URLS: [string, string, string][] = [
  ["empty input", "", 'expected a URL such as "http://example.com/"'],
  ["input over 8192 characters", `http://a.com/${"x".repeat(8180)}`, "longer than 8192 characters"],
  [
    "a mailto URL",
    "mailto:bryner@google.com",
    unsupported("mailto"),
  ],
  [
    "a javascript URL",
    "JavaScript:alert(1)",
    unsupported("javascript"),
  ],
  [
    "text that reads as a scheme",
    "www.google.com:xxyy/foo.html:80",
    unsupported("www.google.com"),
  ],
  ["a lone colon", ":", NO_HOST],
  ["only spaces", "   ", NO_HOST],
  ["a path alone", "/blah", NO_HOST],
  ["a fragment alone", "#ref", NO_HOST],
  ["a path and fragment", "/blah#ref", NO_HOST],
  ["a query and fragment", "?query#ref", NO_HOST],
  ["a path, query and fragment", "/blah?query#ref", NO_HOST],
  ["a path with parameters", "/blah;param", NO_HOST],
  ["a port alone", ":8080/foo.html", NO_HOST],
  ["a scheme and fragment", "http://#ref", NO_HOST],
  ["an empty host before a query", "http://?query#ref", NO_HOST],
  ["a host of dots", "http://.../", NO_HOST],
  ["a port that is not a number", "http://evil.example:8x/", 'port "8x" is not a number'],
  [
    "a host longer than a DNS name",
    `http://${"a.".repeat(127)}ab/`,
    "host is longer than 253 characters",
  ],
  ["user info without host", "http://user@/", NO_HOST],
  ["an unclosed IPv6 host", "http://[::1/", 'expected "]" to close the IPv6 host'],
  [
    "text after an IPv6 host",
    "http://[::1]x/",
    NOT_PORT,
  ],
  [
    "a bad port after an IPv6 host",
    "http://[::1]:8a/",
    NOT_PORT,
  ],
  ["a bracketed host that is not IPv6", "http://[zz]/", 'host "[zz]" is not an IPv6 address'],
  [
    "an IPv6 host with a zone",
    "http://[fe80::1%25eth0]/",
    'host "[fe80::1%25eth0]" is not an IPv6 address',
  ],
];

for (const [behaviour, input, problem] of INVALID_URLS) {
  Deno.test(`canonicalizeUrl rejects ${behaviour} with invalid_url: ${problem}`, () => {
    const error = assertInvalidUrl(() => canonicalizeUrl(input), input);
    assert.equal(error.message, `Invalid URL ${quote(input)}: ${problem}`);
  });
}

Deno.test("canonicalizeUrl keeps the IPv6 parse error as the cause", () => {
  const error = assertInvalidUrl(() => canonicalizeUrl("http://[zz]/"), "http://[zz]/");
  assert.ok(error.cause instanceof InvalidInputError);
  assert.equal(error.cause.code, "invalid_ip");
});

// [behaviour, URL, expressions most specific first, space-separated]
const EXPRESSIONS: [string, string, string][] = [
  [
    "lists the spec's example with a query",
    "http://a.b.c/1/2.html?param=1",
    "a.b.c/1/2.html?param=1 a.b.c/1/2.html a.b.c/1/ a.b.c/ " +
    "b.c/1/2.html?param=1 b.c/1/2.html b.c/1/ b.c/",
  ],
  [
    "uses only the last five host components",
    "http://a.b.c.d.e.f.g/1.html",
    "a.b.c.d.e.f.g/1.html a.b.c.d.e.f.g/ c.d.e.f.g/1.html c.d.e.f.g/ d.e.f.g/1.html d.e.f.g/ " +
    "e.f.g/1.html e.f.g/ f.g/1.html f.g/",
  ],
  ["looks up an IPv4 host only as itself", "http://1.2.3.4/1/", "1.2.3.4/1/ 1.2.3.4/"],
  [
    "looks up an IPv6 host only as itself",
    "http://[2001:470:1:18::114]/a/b",
    "[2001:470:1:18::114]/a/b [2001:470:1:18::114]/a/ [2001:470:1:18::114]/",
  ],
  [
    "uses at most four path prefixes",
    "http://a.b.c/1/2/3/4/5/",
    "a.b.c/1/2/3/4/5/ a.b.c/1/2/3/ a.b.c/1/2/ a.b.c/1/ a.b.c/ " +
    "b.c/1/2/3/4/5/ b.c/1/2/3/ b.c/1/2/ b.c/1/ b.c/",
  ],
  [
    "uses six paths for a deep path with a query",
    "http://a.com/a/b/c/d/e.html?123",
    "a.com/a/b/c/d/e.html?123 a.com/a/b/c/d/e.html a.com/a/b/c/ a.com/a/b/ a.com/a/ a.com/",
  ],
  ["skips an empty query", "http://a.b/?", "a.b/"],
  ["skips the top-level domain alone", "http://a.b/", "a.b/"],
  ["keeps a single-label host", "http://b/", "b/"],
];

for (const [behaviour, input, expected] of EXPRESSIONS) {
  Deno.test(`urlExpressions ${behaviour}: ${quote(input)}`, () => {
    assert.deepEqual(urlExpressions(canonicalizeUrl(input)), expected.split(" "));
  });
}

Deno.test("urlExpressions yields at most 30 distinct expressions", () => {
  const expressions = urlExpressions(canonicalizeUrl("http://a.b.c.d.e.f.g/1/2/3/4/5.html?q"));
  assert.equal(expressions.length, 30);
  assert.equal(new Set(expressions).size, 30);
});

// [behaviour, listing, expression]
const LISTINGS: [string, string, string][] = [
  ["keeps a host and root path", "evil.example/", "evil.example/"],
  ["adds the root path to a bare host", "evil.example", "evil.example/"],
  ["drops scheme and lower-cases the host", "http://Evil.Example/path/", "evil.example/path/"],
  ["keeps a query", "evil.example/a/b?x=1", "evil.example/a/b?x=1"],
  ["drops port and fragment", "https://evil.example:8443/a#frag", "evil.example/a"],
  ["drops an empty query", "evil.example/?", "evil.example/"],
  ["normalises an IP host", "http://0x7f.1/x", "127.0.0.1/x"],
];

for (const [behaviour, listing, expected] of LISTINGS) {
  Deno.test(`urlExpression ${behaviour}: ${quote(listing)} is ${quote(expected)}`, () => {
    assert.equal(urlExpression(listing), expected);
  });
}

Deno.test("urlExpression of a listing is among the expressions of a URL under it", () => {
  const expressions = urlExpressions(canonicalizeUrl("http://www.Evil.example/a/b/c.html?x"));
  assert.ok(expressions.includes(urlExpression("EVIL.example/a/")));
  assert.ok(expressions.includes(urlExpression("http://www.evil.example/a/b/c.html?x")));
});

Deno.test("urlExpression rejects what canonicalizeUrl rejects, with invalid_url", () => {
  const error = assertInvalidUrl(
    () => urlExpression("mailto:x@evil.example"),
    "mailto:x@evil.example",
  );
  assert.equal(statusOf(error), 400);
});

Deno.test("canonicalizeUrl accepts a host of exactly 253 characters", () => {
  const host = `${"a.".repeat(126)}a`;
  assert.equal(host.length, 253);
  assert.equal(canonicalizeUrl(`http://${host}/`).host, host);
});

Deno.test("canonicalizeUrl unescapes 2,700 nested levels to one percent sign", () => {
  // "%25" followed by "25" n times unescapes one level per "25"; done pass by pass this
  // was quadratic in the length.
  const input = `http://a.com/%25${"25".repeat(2700)}`;
  assert.equal(canonicalizeUrl(input).path, "/%25");
});

Deno.test("canonicalizeUrl reads a scheme this node supports before a port-like number", () => {
  assert.equal(canonicalizeUrl("HTTP:255").url, "http://0.0.0.255/");
  assert.equal(canonicalizeUrl("example.com:8080").url, "http://example.com/");
});
