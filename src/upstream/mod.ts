/** The parent node: the client statistics and samples are forwarded with and look-ups asked of. */
export {
  createHttpUpstream,
  HttpUpstream,
  type HttpUpstreamOptions,
  isRetryableStatus,
  type ParentLookup,
  parseRetryAfter,
  type StatisticsReceipt,
  type Upstream,
  UpstreamError,
} from "./client.ts";
export { type AcceptedStatistics, Forwarder, queueAcceptedStatistics } from "./forwarder.ts";
export { type ParentAnswer, type ParentLookupItem, readLookupAnswer } from "./lookup_answer.ts";
