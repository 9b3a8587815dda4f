/**
 * Zone transfers of the RPZ zone as a stream of messages: AXFR (RFC 5936) sends the zone between
 * two SOA records; IXFR (RFC 1995) sends the condensed difference from the client's serial when
 * it is within the zone's history, the SOA alone when the client is current, else the whole zone.
 */
import type { Buffer } from "node:buffer";
import { serialBefore } from "./answer.ts";
import { encodeTransfer, type Query } from "./message.ts";
import { ACTION_TARGET, ownerNames, type RpzAction } from "./rpz_names.ts";
import type { RpzZone, ZoneRecord } from "./rpz_zone.ts";
import { nsRecord, type Rr, soaRecord } from "./soa.ts";

/** How the records are written. */
export interface TransferOptions {
  /** TTL of the zone's records. */
  ttl: number;
  /** The SOA minimum: TTL of negative answers. */
  negativeTtl: number;
}

// Records per message: an owner name is at most 255 bytes and a target 14, so 200 records stay
// well inside a TCP message's 65,535 bytes.
const PER_MESSAGE = 200;

/** The messages that answer a transfer `query` of `zone`, in order. */
export async function* transferMessages(
  query: Query,
  request: { type: "AXFR" | "IXFR"; since: number | null },
  zone: RpzZone,
  options: TransferOptions,
): AsyncGenerator<Buffer> {
  const serial = zone.serial;
  const soa = (s: number): Rr => soaRecord(zone.zone, s, options.negativeTtl);
  const out = new MessageBuilder(query);
  const since = request.since;
  if (request.type === "IXFR" && since !== null && !serialBefore(since, serial)) {
    yield* out.push([soa(serial)]);
    yield* out.flush();
    return;
  }
  yield* out.push([soa(serial)]);
  if (request.type === "IXFR" && since !== null && zone.hasHistoryFrom(since)) {
    yield* out.push([soa(since)]);
    for await (const chunk of zone.changes(since, serial, "deleted")) {
      yield* out.push(records(chunk, zone.zone, options.ttl));
    }
    yield* out.push([soa(serial)]);
    for await (const chunk of zone.changes(since, serial, "added")) {
      yield* out.push(records(chunk, zone.zone, options.ttl));
    }
  } else {
    yield* out.push([nsRecord(zone.zone, options.ttl)]);
    for await (const chunk of zone.records(serial)) {
      yield* out.push(records(chunk, zone.zone, options.ttl));
    }
  }
  yield* out.push([soa(serial)]);
  yield* out.flush();
}

function records(chunk: ZoneRecord[], zone: string, ttl: number): Rr[] {
  const out: Rr[] = [];
  for (const record of chunk) {
    const target = ACTION_TARGET[record.action as RpzAction];
    for (const name of ownerNames(record.key, zone)) {
      out.push({ name, type: "CNAME", ttl, class: "IN", data: target });
    }
  }
  return out;
}

/** Gathers records into messages of {@link PER_MESSAGE}. */
class MessageBuilder {
  readonly #query: Query;
  #pending: Rr[] = [];
  #first = true;

  constructor(query: Query) {
    this.#query = query;
  }

  *push(rrs: Rr[]): Generator<Buffer> {
    for (const rr of rrs) {
      this.#pending.push(rr);
      if (this.#pending.length >= PER_MESSAGE) yield* this.flush();
    }
  }

  *flush(): Generator<Buffer> {
    if (this.#pending.length === 0) return;
    yield encodeTransfer(this.#query, this.#pending, this.#first);
    this.#first = false;
    this.#pending = [];
  }
}
