export { NoOriginError, EndpointError, RegisterError, StreamUrlError, PlacementBatchError, NO_ORIGIN, BAD_ENDPOINT, BAD_STREAM_URL, BAD_REGISTER, BAD_PLACEMENT, STORE_UNAVAILABLE, PLACEMENT_SETTLING, PlacementSettlingError } from './errors.ts';
export { formatHostPort, type Endpoint } from './endpoint.ts';
export {
  parseRegisterBody, resolveEndpoint, resolveEndpoints, originId, ENDPOINT_KINDS,
  type OriginRecord, type EndpointKind,
} from './origin.ts';
export { normalizeStreamUrl, streamUrlFromRtmp, streamUrlFromSrt, streamUrlFromHttp, type HttpStreamUrl } from './stream-url.ts';
export { PLACEMENT_STRATEGIES, DEFAULT_PLACEMENT_STRATEGY, type PlacementStrategy } from './placement.ts';
export {
  SESSION_DTO_VERSION, DEFAULT_BALANCER_OPTIONS, MAX_PLACEMENT_BATCH,
  type Balancer, type BalancerOptions, type HlsSession, type RtcSession, type PickOptions, type PickResult, type OriginStatus, type StreamMapping, type StreamQuery, type StreamPage,
  type PlacementClaim, type PlacementOutcome, type PlacementAnswer,
} from './balancer.ts';
export { MemoryBalancer } from './memory-balancer.ts';
export { mappingVerdict, checkPlacementBatch } from './mapping.ts';
export { RedisBalancer } from './redis-balancer.ts';
export { createBalancer } from './factory.ts';
export { BoundedMap } from './bounded-map.ts';
export { MAX_STREAM_PAGE, streamParts } from './stream-page.ts';
