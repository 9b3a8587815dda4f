import assert from "node:assert/strict";
import { InvalidInputError, quote } from "../../src/core/errors.ts";
import {
  formatIp,
  formatNetwork,
  maskTo,
  parseIp,
  parseNetwork,
  parseUrlHostIpv4,
} from "../../src/reputation/ip.ts";
import { statusOf } from "../../src/http/mod.ts";

/** Asserts that fn throws InvalidInputError with the code, naming the input; returns it. */
function assertInvalid(fn: () => unknown, code: string, input: string): InvalidInputError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${error}`);
    assert.equal(error.code, code);
    assert.ok(error.message.includes(quote(input)), `message names the input: ${error.message}`);
    return error;
  }
  assert.fail(`expected ${code} for ${quote(input)}`);
}

/** Builds IPv6 bytes from eight 16-bit groups. */
function v6(...groups: number[]): Uint8Array {
  return new Uint8Array(groups.flatMap((group) => [group >> 8, group & 0xff]));
}

// [behaviour, input, family, canonical text]
const VALID_ADDRESSES: [string, string, 4 | 6, string][] = [
  ["reads dotted decimal IPv4", "192.0.2.1", 4, "192.0.2.1"],
  ["reads the lowest IPv4 address", "0.0.0.0", 4, "0.0.0.0"],
  ["reads the highest IPv4 address", "255.255.255.255", 4, "255.255.255.255"],
  ["reads the unspecified IPv6 address", "::", 6, "::"],
  ["reads loopback IPv6", "::1", 6, "::1"],
  ["reads the full IPv6 form", "0:0:0:0:0:0:0:1", 6, "::1"],
  [
    "lower-cases and compresses IPv6",
    "2001:DB8:0:0:8:800:200C:417A",
    6,
    "2001:db8::8:800:200c:417a",
  ],
  ["reads a multicast IPv6 address", "FF01:0:0:0:0:0:0:101", 6, "ff01::101"],
  ["drops leading zeros in groups", "0001:0db8::", 6, "1:db8::"],
  ["reads a trailing ::", "1:2:3:4:5:6:7::", 6, "1:2:3:4:5:6:7:0"],
  ["reads a leading :: for one group", "::2:3:4:5:6:7:8", 6, "0:2:3:4:5:6:7:8"],
  ["reads an IPv4 tail after six groups", "1:2:3:4:5:6:1.2.3.4", 6, "1:2:3:4:5:6:102:304"],
  ["reads an IPv4-compatible address", "::13.1.68.3", 6, "::d01:4403"],
  ["returns IPv4-mapped IPv6 as IPv4", "::ffff:1.2.3.4", 4, "1.2.3.4"],
  ["returns full-form mapped IPv6 as IPv4", "0:0:0:0:0:FFFF:129.144.52.38", 4, "129.144.52.38"],
  ["returns hex-form mapped IPv6 as IPv4", "::ffff:0102:0304", 4, "1.2.3.4"],
  ["accepts brackets around IPv6", "[::1]", 6, "::1"],
  ["accepts brackets around mapped IPv6", "[::ffff:10.0.0.1]", 4, "10.0.0.1"],
];

for (const [behaviour, input, family, text] of VALID_ADDRESSES) {
  Deno.test(`parseIp ${behaviour}: ${quote(input)} is ${quote(text)}`, () => {
    const address = parseIp(input);
    assert.equal(address.family, family);
    assert.equal(address.bytes.length, family === 4 ? 4 : 16);
    assert.equal(formatIp(address), text);
  });
}

Deno.test("parseIp returns the address bytes in network order", () => {
  assert.deepEqual(parseIp("192.0.2.1").bytes, new Uint8Array([192, 0, 2, 1]));
  assert.deepEqual(parseIp("2001:db8::1").bytes, v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
});

Deno.test('parseIp explains a short IPv4 address: "1.2.3" needs four parts', () => {
  const error = assertInvalid(() => parseIp("1.2.3"), "invalid_ip", "1.2.3");
  assert.equal(error.message, 'Invalid IP address "1.2.3": expected four dotted decimal parts');
  assert.equal(statusOf(error), 400);
});

// [input, what the message says after the colon]
const INVALID_ADDRESSES: [string, string][] = [
  ["", "expected an IPv4 or IPv6 address"],
  ["1.2.3.4.5", "expected four dotted decimal parts"],
  ["1..2.3", "expected four dotted decimal parts"],
  ["1.2.3.4.", "expected four dotted decimal parts"],
  ["01.2.3.4", 'part "01" has a leading zero'],
  ["256.1.1.1", 'part "256" is above 255'],
  ["example.com", 'expected digits and dots, found "e"'],
  [" 1.2.3.4", 'expected digits and dots, found " "'],
  ["[::1", 'expected "]" to close "["'],
  ["[1.2.3.4]", 'expected eight groups or "::"'],
  ["fe80::1%eth0", 'zone identifiers such as "%eth0" are not supported'],
  ["[fe80::1%25eth0]", 'zone identifiers such as "%25eth0" are not supported'],
  [":1::", 'expected "::" or a group first'],
  ["1:::2", "expected a group between colons"],
  ["1::2::3", 'expected at most one "::"'],
  ["12345::", 'group "12345" has more than four hex digits'],
  ["1:2:3:4:5:6:7:8:9", "expected at most eight groups"],
  ["1:2:3:4:5:6:7:1.2.3.4", "expected at most eight groups"],
  ["1:2:3:4:5:6:7", 'expected eight groups or "::"'],
  ["1:2:3:4::5:6:7:8", 'expected "::" to stand for at least one group'],
  ["1:2:", "expected a group after the last colon"],
  ["g::1", 'expected hex digits and colons, found "g"'],
  ["::ffff:1.2.3", "expected four dotted decimal parts in the IPv4 tail"],
  ["::ffff:1.2.3.04", 'part "04" has a leading zero in the IPv4 tail'],
];

for (const [input, problem] of INVALID_ADDRESSES) {
  Deno.test(`parseIp rejects ${quote(input)} with invalid_ip: ${problem}`, () => {
    const error = assertInvalid(() => parseIp(input), "invalid_ip", input);
    assert.equal(error.message, `Invalid IP address ${quote(input)}: ${problem}`);
  });
}

// [behaviour, input, family, canonical network]
const VALID_NETWORKS: [string, string, 4 | 6, string][] = [
  ["reads an IPv4 network", "10.0.0.0/8", 4, "10.0.0.0/8"],
  ["reads a bare IPv4 address as /32", "192.0.2.1", 4, "192.0.2.1/32"],
  ["reads the whole IPv4 space", "0.0.0.0/0", 4, "0.0.0.0/0"],
  ["reads an IPv6 network", "2001:DB8::/32", 6, "2001:db8::/32"],
  ["reads a bare IPv6 address as /128", "2001:db8::1", 6, "2001:db8::1/128"],
  ["reads the whole IPv6 space", "::/0", 6, "::/0"],
  ["reads a bracketed IPv6 network", "[2001:db8::]/48", 6, "2001:db8::/48"],
  ["accepts a prefix with a leading zero", "10.0.0.0/08", 4, "10.0.0.0/8"],
  ["turns a mapped network into IPv4", "::ffff:10.0.0.0/104", 4, "10.0.0.0/8"],
  ["turns a bare mapped address into an IPv4 host", "::ffff:1.2.3.4", 4, "1.2.3.4/32"],
  ["turns ::ffff:0:0/96 into all of IPv4", "::ffff:0:0/96", 4, "0.0.0.0/0"],
];

for (const [behaviour, input, family, text] of VALID_NETWORKS) {
  Deno.test(`parseNetwork ${behaviour}: ${quote(input)} is ${quote(text)}`, () => {
    const net = parseNetwork(input);
    assert.equal(net.family, family);
    assert.equal(formatNetwork(net), text);
  });
}

Deno.test("parseNetwork returns masked bytes and the prefix", () => {
  assert.deepEqual(parseNetwork("10.0.0.0/8"), {
    family: 4,
    bytes: new Uint8Array([10, 0, 0, 0]),
    prefix: 8,
  });
});

// [input, what the message says after the colon]
const INVALID_NETWORKS: [string, string][] = [
  ["10.0.0.1/8", 'host bits are set; did you mean "10.0.0.0/8"'],
  ["192.168.1.1/16", 'host bits are set; did you mean "192.168.0.0/16"'],
  ["2001:db8::1/32", 'host bits are set; did you mean "2001:db8::/32"'],
  ["::ffff:10.0.0.1/104", 'host bits are set; did you mean "10.0.0.0/8"'],
  ["::ffff:0:0/80", 'host bits are set; did you mean "::/80"'],
  ["::ffff:0:0/95", 'host bits are set; did you mean "::fffe:0:0/95"'],
  ["10.0.0.0/", 'expected a prefix length after "/"'],
  ["10.0.0.0/x", 'prefix "x" is not a whole number'],
  ["10.0.0.0/-1", 'prefix "-1" is not a whole number'],
  ["10.0.0.0/8/9", 'prefix "8/9" is not a whole number'],
  ["10.0.0.0/33", 'prefix "33" is out of range 0-32'],
  ["10.0.0.0/100000", 'prefix "100000" is out of range 0-32'],
  ["::/129", 'prefix "129" is out of range 0-128'],
  ["10.0.0/8", "expected four dotted decimal parts"],
  ["/8", "expected an IPv4 or IPv6 address"],
];

for (const [input, problem] of INVALID_NETWORKS) {
  Deno.test(`parseNetwork rejects ${quote(input)} with invalid_cidr: ${problem}`, () => {
    const error = assertInvalid(() => parseNetwork(input), "invalid_cidr", input);
    assert.equal(error.message, `Invalid CIDR ${quote(input)}: ${problem}`);
  });
}

Deno.test("parseNetwork rejects a bare malformed address with invalid_ip, not invalid_cidr", () => {
  const error = assertInvalid(() => parseNetwork(""), "invalid_ip", "");
  assert.equal(error.message, 'Invalid IP address "": expected an IPv4 or IPv6 address');
  assertInvalid(() => parseNetwork("300.1.2.3"), "invalid_ip", "300.1.2.3");
});

// [behaviour, groups, RFC 5952 text]
const RFC5952: [string, number[], string][] = [
  [
    "compresses the first of two equal zero runs",
    [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1],
    "2001:db8::1:0:0:1",
  ],
  ["compresses the longest zero run", [0x2001, 0, 0, 1, 0, 0, 0, 1], "2001:0:0:1::1"],
  ["leaves a single zero group alone", [0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], "2001:db8:0:1:1:1:1:1"],
  ["writes all zeros as ::", [0, 0, 0, 0, 0, 0, 0, 0], "::"],
  ["keeps mapped IPv4 dotted", [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304], "::ffff:1.2.3.4"],
];

for (const [behaviour, groups, text] of RFC5952) {
  Deno.test(`formatIp ${behaviour}: ${quote(text)}`, () => {
    assert.equal(formatIp({ family: 6, bytes: v6(...groups) }), text);
  });
}

Deno.test("formatIp writes IPv4 in dotted decimal", () => {
  assert.equal(formatIp({ family: 4, bytes: new Uint8Array([10, 0, 255, 1]) }), "10.0.255.1");
});

// [bytes, prefix, masked]
const MASKS: [number[], number, number[]][] = [
  [[10, 1, 2, 3], 8, [10, 0, 0, 0]],
  [[255, 255, 255, 255], 20, [255, 255, 240, 0]],
  [[255, 255, 255, 255], 0, [0, 0, 0, 0]],
  [[255, 255, 255, 255], 32, [255, 255, 255, 255]],
  [[0xff, 0xff, 0xff, 0xff], 1, [0x80, 0, 0, 0]],
];

for (const [bytes, prefix, masked] of MASKS) {
  Deno.test(`maskTo keeps the first ${prefix} bits of ${bytes.join(".")}`, () => {
    assert.deepEqual(maskTo(new Uint8Array(bytes), prefix), new Uint8Array(masked));
  });
}

Deno.test("maskTo returns a new array and leaves its input alone", () => {
  const bytes = new Uint8Array(16).fill(0xff);
  const masked = maskTo(bytes, 65);
  assert.deepEqual(masked, v6(0xffff, 0xffff, 0xffff, 0xffff, 0x8000, 0, 0, 0));
  assert.deepEqual(bytes, new Uint8Array(16).fill(0xff));
});

// [behaviour, host, dotted decimal or null]
const URL_HOSTS: [string, string, string | null][] = [
  ["reads one decimal number as the whole address", "3279880203", "195.127.0.11"],
  ["reads another whole-address number", "167838211", "10.1.2.3"],
  ["reads the largest whole-address number", "4294967295", "255.255.255.255"],
  ["reads hex parts and a short address", "0x7f.1", "127.0.0.1"],
  ["reads upper-case hex", "0X7F.1", "127.0.0.1"],
  ["reads octal parts", "012.1.2.3", "10.1.2.3"],
  ["reads four octal parts", "012.034.01.055", "10.28.1.45"],
  ["reads four hex parts", "0x12.0x43.0x44.0x01", "18.67.68.1"],
  ["reads a mix of bases in three parts", "12.0x12.01234", "12.18.2.156"],
  ["lets the last of two parts fill three bytes", "1.65536", "1.1.0.0"],
  ["keeps plain dotted decimal", "255.0.0.1", "255.0.0.1"],
  ["ignores one trailing dot", "1.2.3.4.", "1.2.3.4"],
  ["reads a bare 0x as zero, as WHATWG does", "0x", "0.0.0.0"],
  ["treats five parts as a name", "123.123.0.0.1", null],
  ["treats a broken octal part as a name", "1.2.3.00x0", null],
  ["treats 8 and 9 in an octal part as a name", "08", null],
  ["treats a non-hex digit after 0x as a name", "0xg", null],
  ["treats a number over 32 bits as a name", "4294967296", null],
  ["treats a non-last part over 255 as a name", "276.2.3", null],
  ["treats a last part too big for its bytes as a name", "1.2.3.256", null],
  ["treats an empty part as a name", "1..2", null],
  ["treats a host name as a name", "example.com", null],
  ["treats the empty host as a name", "", null],
  ["treats a lone dot as a name", ".", null],
  ["treats a trailing space as a name", "1.2.3.4 ", null],
  ["treats a signed number as a name", "-1", null],
];

for (const [behaviour, host, expected] of URL_HOSTS) {
  Deno.test(`parseUrlHostIpv4 ${behaviour}: ${quote(host)} gives ${expected}`, () => {
    assert.equal(parseUrlHostIpv4(host), expected);
  });
}
