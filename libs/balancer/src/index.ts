export { NoOriginError, EndpointError, RegisterError, StreamUrlError, StoreUnavailableError, NO_ORIGIN, BAD_ENDPOINT, BAD_REGISTER, BAD_STREAM_URL, STORE_UNAVAILABLE } from './errors.ts';
export { parseEndpoint, formatHostPort, type Endpoint, type EndpointProto } from './endpoint.ts';
export {
  parseRegisterBody, resolveEndpoint, resolveEndpoints, hasEndpoint, originId,
  ENDPOINT_KINDS, ORIGIN_RECORD_VERSION, MAX_ENDPOINTS_PER_KIND, MAX_FIELD_LENGTH,
  type OriginRecord, type EndpointKind,
} from './origin.ts';
export { normalizeStreamUrl, streamUrlFromRtmp, streamUrlFromSrt, streamUrlFromHttp, vhostOf, pathExt, DEFAULT_VHOST, type HttpStreamUrl } from './stream-url.ts';
export { selectOrigin, isAlive, type SelectInput } from './select.ts';
export {
  SESSION_DTO_VERSION, DEFAULT_BALANCER_OPTIONS,
  type Balancer, type BalancerOptions, type HlsSession, type RtcSession, type PickOptions, type PickResult, type OriginStatus, type StreamMapping,
} from './balancer.ts';
export { MemoryBalancer, DEFAULT_LIST_STREAMS_LIMIT } from './memory-balancer.ts';
export { mappingVerdict, type MappingVerdict } from './mapping.ts';
export {
  RedisBalancer, STREAM_MAPPING_VERSION, REDIS_COMMAND_TIMEOUT_MS,
  type RedisConnection, type StreamMappingDto,
} from './redis-balancer.ts';
export { createBalancer, type BalancerConfig } from './factory.ts';
