/**
 * DNS messages in and out, through the `dns-packet` library: a query's header checked before
 * anything is decoded, and responses sized to what the client can take.
 */
// @ts-types="@types/dns-packet"
import * as packet from "dns-packet";
import { Buffer } from "node:buffer";
import type { Rr } from "./soa.ts";

/** A decoded query. */
export type Query = packet.DecodedPacket;
/** A question of a query. */
export type Question = packet.Question;

/** Response codes the server gives. */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;
/** One of {@link RCODE}'s values. */
export type Rcode = typeof RCODE[keyof typeof RCODE];

/** What the first 12 bytes of a message say, read before the message is decoded. */
export interface Header {
  id: number;
  response: boolean;
  opcode: number;
  questions: number;
  answers: number;
  authorities: number;
  additionals: number;
}

/** The header of `bytes`, or null when shorter than a header. */
export function readHeader(bytes: Uint8Array): Header | null {
  if (bytes.length < 12) return null;
  const u16 = (at: number): number => (bytes[at] << 8) | bytes[at + 1];
  const flags = u16(2);
  return {
    id: u16(0),
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    questions: u16(4),
    answers: u16(6),
    authorities: u16(8),
    additionals: u16(10),
  };
}

/** Decodes a query; throws on a malformed one. */
export function decodeQuery(bytes: Uint8Array): Query {
  return packet.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** The EDNS payload size the client offers, when its query carries an OPT record. */
export function ednsSize(query: Query): number | null {
  const opt = query.additionals?.find((a) => a.type === "OPT") as packet.OptAnswer | undefined;
  return opt === undefined ? null : opt.udpPayloadSize;
}

// What this server offers over UDP with EDNS: the size that avoids IP fragmentation (DNS Flag
// Day 2020). Without EDNS a UDP answer is at most 512 bytes.
const EDNS_SIZE = 1232;
const PLAIN_SIZE = 512;

/** What goes into a response. */
export interface Reply {
  rcode: Rcode;
  /** Whether the server is authoritative for the name (inside one of its zones). */
  authoritative: boolean;
  answers?: Rr[];
  authorities?: Rr[];
}

/**
 * Encodes the response to `query`: its question echoed as asked (resolvers check the case they
 * sent), RD copied, an OPT record when the query had one. Over UDP a response larger than the
 * client can take goes out empty with TC set, so the client asks again over TCP.
 */
export function encodeReply(
  query: Query,
  reply: Reply,
  transport: "udp" | "tcp",
): Buffer {
  const edns = ednsSize(query);
  const message: packet.Packet = {
    type: "response",
    id: query.id,
    flags: flagsOf(query, reply, false),
    questions: query.questions,
    answers: reply.answers as packet.Answer[] | undefined ?? [],
    authorities: reply.authorities as packet.Answer[] | undefined ?? [],
    additionals: edns === null ? [] : [optRecord()],
  };
  const bytes = packet.encode(message);
  if (transport === "tcp") return bytes;
  const limit = edns === null ? PLAIN_SIZE : Math.min(Math.max(edns, PLAIN_SIZE), EDNS_SIZE);
  if (bytes.length <= limit) return bytes;
  return packet.encode({
    ...message,
    flags: flagsOf(query, reply, true),
    answers: [],
    authorities: [],
  });
}

/** A response carrying only a code and no question, for a query that could not be decoded. */
export function encodeBare(id: number, rcode: Rcode): Buffer {
  return packet.encode({ type: "response", id, flags: rcode, questions: [] });
}

/** One message of a zone transfer (TCP only); the first carries the question. */
export function encodeTransfer(query: Query, answers: Rr[], first: boolean): Buffer {
  return packet.encode({
    type: "response",
    id: query.id,
    flags: packet.AUTHORITATIVE_ANSWER,
    questions: first ? query.questions : [],
    answers: answers as packet.Answer[],
  });
}

function flagsOf(query: Query, reply: Reply, truncated: boolean): number {
  let flags = reply.rcode;
  if (reply.authoritative) flags |= packet.AUTHORITATIVE_ANSWER;
  if (query.flag_rd) flags |= packet.RECURSION_DESIRED;
  if (truncated) flags |= packet.TRUNCATED_RESPONSE;
  return flags;
}

function optRecord(): packet.Answer {
  return {
    type: "OPT",
    name: ".",
    udpPayloadSize: EDNS_SIZE,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: 0,
    flag_do: false,
    options: [],
  };
}

/** A TXT string of at most 255 bytes (the most one can hold), cut at a character boundary. */
export function txtString(text: string): Buffer {
  let bytes = Buffer.from(text, "utf8");
  if (bytes.length <= 255) return bytes;
  let end = 255;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  bytes = bytes.subarray(0, end);
  return bytes;
}
