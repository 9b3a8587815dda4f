/**
 * HTTP shared by every router: the one mapping of errors to statuses and headers, body reading,
 * allowed methods, per-route metrics, the server with its connection limits, and how routes are
 * described for the OpenAPI document.
 */
export {
  parseJson,
  readBytes,
  readJson,
  readJsonBytes,
  readStream,
  refuseEncoded,
} from "./body.ts";
export {
  createHttpMetrics,
  type HttpMetrics,
  instrument,
  type InstrumentDeps,
  instrumentRequest,
} from "./http_metrics.ts";
export { allowOnly } from "./methods.ts";
export { errorResponse, statusOf } from "./responses.ts";
export {
  errorAnswer,
  errorBodySchema,
  lookupResultSchema,
  nodeParticipationSchema,
  type RouteDoc,
  type RouteExample,
  type RouteResponse,
  type RouteSecurity,
} from "./route_docs.ts";
export { readTls, type RunningServer, startServer } from "./server.ts";
export { wholeBody } from "./whole_body.ts";
