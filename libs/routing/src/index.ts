export {
  ORIGIN_UNREACHABLE, ORIGIN_CONNECT_TIMEOUT, ORIGIN_NO_ENDPOINT, ORIGIN_TIMEOUT, ORIGIN_REJECTED, ORIGIN_FAILED,
  OriginUnreachableError, OriginConnectTimeoutError, OriginNoEndpointError, OriginTimeoutError, OriginRejectedError, OriginFailedError,
} from './errors.ts';
export { classifyFailure, isOriginDown, CONNECT_FAILURE_CODES, type OriginFailure } from './failure.ts';
export { reportOriginFailure, REPORT_TIMEOUT_MS } from './report.ts';
export { RouteCache, type RouteCacheOptions, type RouteEvents } from './route-cache.ts';
export { StaleIfErrorMap } from './stale-map.ts';
export { ControlPlaneGuard, ControlPlaneUnavailableError, isControlPlaneFailure, CONTROL_PLANE_UNAVAILABLE, CONTROL_PLANE_RETRY_MS, type ControlPlaneGuardOptions } from './control-plane.ts';
export { OriginRouter, type OriginRouterOptions, type RouteOptions, type RouteTarget } from './router.ts';
export { dialTcp } from './dial.ts';
export { createEdgeRouter, ROUTE_CACHE_MAX_ENTRIES, type EdgeRouterOptions } from './edge-router.ts';
export { DEFAULT_ROUTING_SETTINGS, routingSettings, type RoutingSettings } from './settings.ts';
export {
  answerKind, httpAnswer, whipAnswer, rtmpAnswer, srtRejectReason, SrtReject,
  type AnswerKind, type CodeAnswers, type HttpAnswer, type RtmpAnswer,
} from './client-answer.ts';
export { StallWatch, ORIGIN_STALLED, type StallVerdict, type RelaySample, type StallWatchOptions } from './stall.ts';
export { OriginProber, type ProbeFn, type ProbeResult, type OriginProberOptions } from './origin-probe.ts';
export { PlacementLeases, LEASE_FAILURE_LOG_INTERVAL_MS, type PlacementLease, type PlacementLeasesOptions, type LeaseTimers, type LeaseRenewal } from './placement-leases.ts';
