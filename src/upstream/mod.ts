/** The parent node: the upstream client statistics and samples are forwarded with. */
export {
  createHttpUpstream,
  HttpUpstream,
  type HttpUpstreamOptions,
  isRetryableStatus,
  parseRetryAfter,
  type SampleMeta,
  type StatisticsReceipt,
  type Upstream,
  UpstreamError,
} from "./client.ts";
