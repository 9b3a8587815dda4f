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
export { Forwarder, queueAcceptedStatistics } from "./forwarder.ts";
export type { AcceptedStatistics } from "./forwarder.ts";
