/**
 * One DNS query answered: checked (header, opcode, counts, class, zone, client) before any look-up
 * runs, then looked up with the same code as `/v1`. A listed object answers `A 127.0.0.2` and
 * `TXT "<last seen> <verdict> <threat>"`; unknown and clean ones do not exist (NXDOMAIN). Zone
 * transfers of the RPZ zone are handed back to the TCP side, which streams them.
 */
import { AppError } from "../core/mod.ts";
import type { LookupResult, ObjectType, Reputation, Verdict } from "../reputation/mod.ts";
import {
  decodeQuery,
  encodeBare,
  encodeReply,
  type Query,
  RCODE,
  readHeader,
  type Reply,
  txtString,
} from "./message.ts";
import { nameLookup, relativeName } from "./query_name.ts";
import type { RpzZone } from "./rpz_zone.ts";
import { nsRecord, type Rr, soaRecord } from "./soa.ts";
import type { Buffer } from "node:buffer";

/** What {@link answerQuery} needs. */
export interface AnswerDeps {
  reputation: Reputation;
  /** The look-up zone, lower case, without the final dot. */
  zone: string;
  /** The RPZ zone served by transfer, or null. */
  rpz: RpzZone | null;
  /** TTL of negative answers: the SOA minimum. */
  negativeTtl: number;
  /** The look-up zone's SOA serial (the mirror version). */
  serial: () => number;
  /** Told of every look-up's type and verdict, for the metrics. */
  counted?: (type: ObjectType, verdict: Verdict) => void;
}

/** What to do with a message that came in. */
export type Outcome =
  | { kind: "drop" }
  | { kind: "reply"; bytes: Buffer }
  | { kind: "transfer"; query: Query; type: "AXFR" | "IXFR"; since: number | null };

const LISTED: ReadonlySet<Verdict> = new Set(["malicious", "phishing", "adware", "suspicious"]);
const LISTED_A = "127.0.0.2";

/** Answers one message from a client (`admitted`: its address is in `dns.allow`). */
export function answerQuery(
  bytes: Uint8Array,
  context: { transport: "udp" | "tcp"; admitted: boolean },
  deps: AnswerDeps,
): Outcome {
  const header = readHeader(bytes);
  // Never answer a response, or what is too short to say whom to answer: that is how loops and
  // reflection start.
  if (header === null || header.response) return { kind: "drop" };
  const bare = (rcode: number): Outcome => ({
    kind: "reply",
    bytes: encodeBare(header.id, rcode as typeof RCODE.FORMERR),
  });
  if (header.opcode !== 0) return bare(RCODE.NOTIMP);
  // One question; nothing in the answer section; at most an IXFR's SOA in the authority section
  // and an OPT and a TSIG record in the additional one.
  if (
    header.questions !== 1 || header.answers !== 0 || header.authorities > 1 ||
    header.additionals > 2
  ) {
    return bare(RCODE.FORMERR);
  }
  let query: Query;
  try {
    query = decodeQuery(bytes);
  } catch {
    return bare(RCODE.FORMERR);
  }
  const { transport } = context;
  const reply = (r: Reply): Outcome => ({ kind: "reply", bytes: encodeReply(query, r, transport) });
  if (query.additionals!.filter((a) => a.type === "OPT").length > 1) {
    return reply({ rcode: RCODE.FORMERR, authoritative: false });
  }
  if (!context.admitted) return reply({ rcode: RCODE.REFUSED, authoritative: false });
  const question = query.questions![0];
  if (question.class !== "IN") return reply({ rcode: RCODE.REFUSED, authoritative: false });
  const type: string = question.type;
  const rpz = deps.rpz;
  const inRpz = rpz === null ? null : relativeName(question.name, rpz.zone);
  if (type === "AXFR" || type === "IXFR") {
    if (inRpz !== "") return reply({ rcode: RCODE.REFUSED, authoritative: false });
    const since = type === "IXFR" ? clientSerial(query) : null;
    if (type === "IXFR" && since === null) {
      return reply({ rcode: RCODE.FORMERR, authoritative: false });
    }
    if (transport === "tcp") return { kind: "transfer", query, type, since };
    // AXFR is not defined over UDP (RFC 5936). An IXFR over UDP gets the current SOA alone:
    // a client behind it then asks again over TCP (RFC 1995, section 2).
    if (type === "AXFR") return reply({ rcode: RCODE.NOTIMP, authoritative: false });
    const soa = soaRecord(rpz!.zone, rpz!.serial, deps.negativeTtl);
    return reply({ rcode: RCODE.NOERROR, authoritative: true, answers: [soa] });
  }
  if (inRpz !== null) {
    // Resolvers load the RPZ zone whole; they ask only for its SOA (serial checks) and NS.
    const soa = soaRecord(rpz!.zone, rpz!.serial, deps.negativeTtl);
    if (inRpz !== "") return reply({ rcode: RCODE.REFUSED, authoritative: false });
    return reply(apex(type, soa, nsRecord(rpz!.zone, deps.negativeTtl)));
  }
  const relative = relativeName(question.name, deps.zone);
  if (relative === null) return reply({ rcode: RCODE.REFUSED, authoritative: false });
  const soa = soaRecord(deps.zone, deps.serial(), deps.negativeTtl);
  if (relative === "") return reply(apex(type, soa, nsRecord(deps.zone, deps.negativeTtl)));
  const asked = nameLookup(relative);
  const nxdomain: Reply = { rcode: RCODE.NXDOMAIN, authoritative: true, authorities: [soa] };
  if (asked === null) return reply(nxdomain);
  let result: LookupResult;
  try {
    result = deps.reputation.lookup(asked.type, asked.value);
  } catch (err) {
    if (err instanceof AppError && err.kind === "invalid") return reply(nxdomain);
    return reply({ rcode: RCODE.SERVFAIL, authoritative: false });
  }
  deps.counted?.(asked.type, result.verdict);
  if (!LISTED.has(result.verdict)) return reply(nxdomain);
  const ttl = Math.min(Math.max(result.ttl ?? deps.negativeTtl, 0), 0x7fffffff);
  const name = question.name;
  const answers: Rr[] = [];
  if (type === "A" || type === "ANY") {
    answers.push({ name, type: "A", ttl, class: "IN", data: LISTED_A });
  }
  if (type === "TXT" || type === "ANY") {
    answers.push({ name, type: "TXT", ttl, class: "IN", data: [txtString(txtOf(result))] });
  }
  // The name exists but has no records of this type: NODATA, the SOA saying how long to cache it.
  if (answers.length === 0) {
    return reply({ rcode: RCODE.NOERROR, authoritative: true, authorities: [soa] });
  }
  return reply({ rcode: RCODE.NOERROR, authoritative: true, answers });
}

/** What a zone's own name answers. */
function apex(type: string, soa: Rr, ns: Rr): Reply {
  const answers = type === "SOA" ? [soa] : type === "NS" ? [ns] : type === "ANY" ? [soa, ns] : [];
  return answers.length > 0
    ? { rcode: RCODE.NOERROR, authoritative: true, answers }
    : { rcode: RCODE.NOERROR, authoritative: true, authorities: [soa] };
}

/** The TXT text of a listed object, as Team Cymru's MHR gives it: last seen, then what it is. */
function txtOf(result: LookupResult): string {
  const seen = result.lastSeen ?? result.firstSeen;
  const epoch = seen === undefined ? 0 : Math.floor(Date.parse(seen) / 1000);
  return `${epoch} ${result.verdict} ${result.threat?.replace(/\s+/g, "_") ?? "-"}`;
}

/** The serial an IXFR's authority SOA gives, or null when it has none. */
function clientSerial(query: Query): number | null {
  const soa = query.authorities?.find((a) => a.type === "SOA");
  if (soa === undefined || typeof soa.data !== "object" || soa.data === null) return null;
  const serial = (soa.data as { serial?: unknown }).serial;
  return typeof serial === "number" ? serial >>> 0 : null;
}

/** Whether serial `a` comes before `b` in RFC 1982 serial number arithmetic. */
export function serialBefore(a: number, b: number): boolean {
  const diff = (b - a) >>> 0;
  return diff !== 0 && diff < 0x80000000;
}
