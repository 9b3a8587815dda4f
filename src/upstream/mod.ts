/** The parent node: the upstream client statistics and samples are forwarded with. */
export {
  createHttpUpstream,
  HttpUpstream,
  type HttpUpstreamOptions,
  isRetryableStatus,
  parseRetryAfter,
  type StatisticsReceipt,
  type Upstream,
  UpstreamError,
} from "./client.ts";
export { type AcceptedStatistics, Forwarder, queueAcceptedStatistics } from "./forwarder.ts";
