import { MAX_STREAM_PAGE } from '@srs-proxy/balancer';
import { PROXY_VERSION_STRING } from '@srs-proxy/runtime';
import { DEFAULT_STREAM_PAGE } from './cluster-query.ts';

/**
 * OpenAPI 3.1 description of the cluster API, served at `/api/v1/cluster/openapi.json`. Written by
 * hand next to the routes (cluster-api.ts); the cluster API test checks that every route it calls is
 * described here.
 */

const nullable = (schema: Record<string, unknown>) => ({ oneOf: [schema, { type: 'null' }] });
const int = { type: 'integer', minimum: 0 };
const num = { type: 'number' };
const str = { type: 'string' };
const time = { type: 'string', format: 'date-time' };
const kbps = nullable({ type: 'object', properties: { recv: num, send: num }, required: ['recv', 'send'] });
const ok = (schema: Record<string, unknown>, description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object', properties: { code: { const: 0 }, ...schema }, required: ['code', ...Object.keys(schema)] } } },
});
const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const errors = {
  401: error('PROXY_HTTP_API_AUTH_TOKEN is set and the request has no matching `Authorization: Bearer <token>`.'),
  503: error('The balancer state store (Redis) is unavailable.'),
};
const originIdParam = { name: 'id', in: 'path', required: true, schema: str, description: 'Origin id `<server>-<service>-<pid>` (URL-encoded).' };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'srs-proxy cluster API',
    version: PROXY_VERSION_STRING,
    description: 'Read-only views of an srs-proxy cluster on the System API listener (PROXY_SYSTEM_API): origins and their load, streams and where they are placed, the edges, and live detail asked of the origins\' own SRS HTTP API.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'PROXY_HTTP_API_AUTH_TOKEN; not required when it is unset.' } },
    schemas: {
      Error: { type: 'object', properties: { code: int, error: str, field: str }, required: ['code', 'error'] },
      Load: nullable({
        type: 'object',
        description: 'From the heartbeat `summaries` (SRS `heartbeat { summaries on; }`); percentages (SRS sends ratios). kbps from the last two heartbeats this registry received.',
        properties: {
          cpu_percent: nullable(num), srs_cpu_percent: nullable(num), load_1m: nullable(num), cpus: nullable(num),
          mem_percent: nullable(num), srs_mem_kbyte: nullable(num), connections: nullable(num), kbps,
        },
      }),
      Origin: {
        type: 'object',
        properties: {
          id: str, ip: str, server: str, service: str, pid: str, device_id: nullable(str),
          addresses: { type: 'object', description: 'Dialable host:port per service.', properties: Object.fromEntries(['rtmp', 'http', 'api', 'srt', 'rtc'].map((k) => [k, { type: 'array', items: str }])) },
          alive: { type: 'boolean' }, last_heartbeat: time, heartbeat_age_ms: int,
          penalized_until: nullable(time), streams: int, load: ref('Load'),
        },
      },
      Stream: {
        type: 'object',
        properties: {
          stream_url: str, vhost: str, app: str, stream: str, origin_id: str, placed_at: nullable(time), age_ms: nullable(int),
          protocol: nullable({ enum: ['rtmp', 'http', 'api', 'srt', 'rtc'], description: 'Origin service the placing client needed (rtmp, http: FLV/TS/HLS, api: WHIP/WHEP, srt, rtc).' }),
          publishers: int, players: int, client_protocols: { type: 'array', items: str },
        },
      },
      Edge: {
        type: 'object',
        properties: {
          id: str, role: str, version: str, host: str, listen: { type: 'object', additionalProperties: str }, pid: int, sessions: int, uptime_s: int,
          last_seen: time, last_seen_age_ms: int, streams: int, publishers: int, players: int,
        },
      },
      OriginLive: {
        type: 'object',
        description: 'One origin\'s own HTTP API (`/api/v1/streams/`, `/api/v1/clients/`, `/api/v1/summaries`), cached PROXY_CLUSTER_LIVE_CACHE_TTL.',
        properties: {
          origin_id: str, api: nullable(str), ok: { type: 'boolean' },
          error: nullable({ enum: ['no_api_endpoint', 'timeout', 'unreachable', 'http_error', 'bad_reply'] }),
          fetched_at: time,
          streams: { type: 'array', items: { type: 'object', properties: { stream_url: str, id: str, app: str, name: str, clients: nullable(int), publishing: { type: 'boolean' }, kbps, video: { type: ['object', 'null'] }, audio: { type: ['object', 'null'] } } } },
          clients: { type: 'array', items: ref('LiveClient') },
          load: ref('Load'),
        },
      },
      LiveClient: { type: 'object', properties: { id: str, ip: str, type: str, publish: { type: 'boolean' }, stream_url: nullable(str), alive_s: nullable(num), kbps } },
    },
  },
  security: [{ bearer: [] }, {}],
  paths: {
    '/api/v1/cluster': {
      get: {
        summary: 'Cluster summary',
        responses: {
          200: ok({ mode: { enum: ['standalone', 'cluster'] }, balancer: { enum: ['memory', 'redis'] }, time, origins: { type: 'object', properties: { total: int, alive: int } }, streams: int, edges: { type: 'object', properties: { total: int, sessions: int } } }, 'Counts.'),
          ...errors,
        },
      },
    },
    '/api/v1/cluster/origins': { get: { summary: 'Every registered origin', responses: { 200: ok({ origins: { type: 'array', items: ref('Origin') } }, 'Origins by id.'), ...errors } } },
    '/api/v1/cluster/origins/{id}': { get: { summary: 'One origin', parameters: [originIdParam], responses: { 200: ok({ origin: ref('Origin') }, 'The origin.'), 404: error('Unknown origin.'), ...errors } } },
    '/api/v1/cluster/origins/{id}/live': {
      get: { summary: 'Live streams and clients of one origin, from its own HTTP API', parameters: [originIdParam], responses: { 200: ok({ live: ref('OriginLive') }, 'Its answer, or `ok: false` with `error` when it did not answer.'), 404: error('Unknown origin.'), ...errors } },
    },
    '/api/v1/cluster/live': {
      get: { summary: 'Live detail of every alive origin (bounded concurrency and timeouts)', responses: { 200: ok({ partial: { type: 'boolean', description: 'Some origin did not answer.' }, origins: { type: 'array', items: ref('OriginLive') } }, 'One entry per alive origin.'), ...errors } },
    },
    '/api/v1/cluster/streams': {
      get: {
        summary: 'Placed streams, a page at a time in stream URL order',
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_STREAM_PAGE, default: DEFAULT_STREAM_PAGE } },
          { name: 'cursor', in: 'query', schema: str, description: '`next_cursor` of the previous page.' },
          { name: 'origin', in: 'query', schema: str, description: 'Only streams placed on this origin id.' },
          { name: 'vhost', in: 'query', schema: str },
          { name: 'app', in: 'query', schema: str },
        ],
        responses: { 200: ok({ streams: { type: 'array', items: ref('Stream') }, next_cursor: nullable(str) }, 'A page; `next_cursor` null on the last one.'), 400: error('A bad parameter (`field` names it).'), ...errors },
      },
    },
    '/api/v1/cluster/streams/players': {
      get: {
        summary: 'Clients of one stream across the cluster: per edge and protocol, and as its origin lists them',
        parameters: [{ name: 'stream', in: 'query', required: true, schema: str, description: 'Stream URL as listed, e.g. `__defaultVhost__/live/livestream`.' }],
        responses: {
          200: ok({
            stream_url: str, origin_id: nullable(str), edges_incomplete: { type: 'boolean' },
            edges: { type: 'array', items: { type: 'object', properties: { edge_id: str, role: str, host: str, protocol: str, publishers: int, players: int } } },
            origin: nullable({ type: 'object', properties: { origin_id: str, ok: { type: 'boolean' }, error: nullable(str), clients: { type: 'array', items: ref('LiveClient') } } }),
          }, 'Sessions per edge; the origin\'s own client list when it answers.'),
          400: error('No or bad `stream`.'),
          ...errors,
        },
      },
    },
    '/api/v1/cluster/edges': { get: { summary: 'Running edges (each announces itself on the bus every 5 s)', responses: { 200: ok({ edges: { type: 'array', items: ref('Edge') } }, 'Edges by role.'), ...errors } } },
    '/api/v1/cluster/openapi.json': { get: { summary: 'This document', security: [{}], responses: { 200: { description: 'OpenAPI 3.1' } } } },
  },
} as const;
