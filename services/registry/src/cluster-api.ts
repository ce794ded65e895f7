import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { streamParts, type Balancer, type OriginStatus, type StreamMapping } from '@srs-proxy/balancer';
import { RateLimitedLog, type Logger } from '@srs-proxy/runtime';
import { ClusterQueryError, encodeCursor, parseOriginId, parseStreamParam, parseStreamQuery } from './cluster-query.ts';
import type { EdgeDirectory } from './edge-directory.ts';
import type { OriginLiveFetcher } from './origin-live.ts';
import { originView } from './origin-view.ts';
import { OPENAPI_DOCUMENT } from './openapi.ts';
import type { TrafficSamples } from './traffic-samples.ts';

/** Numeric `code` of JSON error bodies: the HTTP status, as the rest of the System API. */
const CODE_BAD_REQUEST = 400;
const CODE_UNAUTHORIZED = 401;
const CODE_NOT_FOUND = 404;
const CODE_UNAVAILABLE = 503;

export interface ClusterApiDeps {
  logger: Logger;
  balancer: Balancer;
  edges: EdgeDirectory;
  live: OriginLiveFetcher;
  traffic: TrafficSamples;
  now: () => number;
  /** `standalone` or `cluster`, shown by the summary. */
  mode: () => string;
  /** Same rule as the other cluster views (token when PROXY_HTTP_API_AUTH_TOKEN is set). */
  authorized(authorization: string | string[] | undefined): boolean;
}

/** A stream as the cluster API lists it: its placement plus what the edges report about it. */
export interface StreamView {
  stream_url: string;
  vhost: string;
  app: string;
  stream: string;
  origin_id: string;
  /** ISO time of placement and its age; null for mappings written by an older registry. */
  placed_at: string | null;
  age_ms: number | null;
  /** Protocol of the client whose pick placed it (usually the publisher). */
  protocol: string | null;
  /** Summed over the edges' last announcements. */
  publishers: number;
  players: number;
  /** Protocols of the stream's clients at the edges (`rtmp`, `flv`, `hls`, `webrtc`, `srt`…). */
  client_protocols: string[];
}

function streamView(m: StreamMapping, now: number, totals: ReturnType<EdgeDirectory['totals']>): StreamView {
  const { vhost, app } = streamParts(m.stream_url);
  const t = totals.get(m.stream_url);
  return {
    stream_url: m.stream_url,
    vhost,
    app,
    stream: m.stream_url.slice(vhost.length + app.length + 2),
    origin_id: m.origin_id,
    placed_at: m.placed_at === undefined ? null : new Date(m.placed_at).toISOString(),
    age_ms: m.placed_at === undefined ? null : Math.max(0, now - m.placed_at),
    protocol: m.protocol ?? null,
    publishers: t?.publishers ?? 0,
    players: t?.players ?? 0,
    client_protocols: t?.protocols ?? [],
  };
}

/**
 * The cluster API on the System API listener (see openapi.ts for the contract and README for
 * examples): origins with their load, paged streams with their placement and clients, the edges,
 * and live detail asked of the origins' own HTTP API. Read-only; with PROXY_HTTP_API_AUTH_TOKEN
 * set every route but the OpenAPI document needs the bearer token.
 */
export function registerClusterApi(app: FastifyInstance, deps: ClusterApiDeps): void {
  const log = new RateLimitedLog(deps.logger);

  const guarded = <R extends FastifyRequest>(handler: (req: R, reply: FastifyReply) => Promise<unknown>) =>
    async (req: R, reply: FastifyReply): Promise<unknown> => {
      if (!deps.authorized(req.headers.authorization)) {
        return reply.code(401).header('WWW-Authenticate', 'Bearer realm="srs-proxy"').type('application/json').send({ code: CODE_UNAUTHORIZED, error: 'unauthorized' });
      }
      try {
        return await handler(req, reply);
      } catch (err) {
        if (err instanceof ClusterQueryError) {
          return reply.code(400).type('application/json').send({ code: CODE_BAD_REQUEST, error: err.message, field: err.field });
        }
        // The store (Redis) is down or failed: say so without its internal text.
        log.warn({ err, url: req.url }, 'cluster API request failed');
        return reply.code(503).type('application/json').send({ code: CODE_UNAVAILABLE, error: 'cluster state unavailable' });
      }
    };

  const views = (list: OriginStatus[]) => list.map((s) => originView(s, deps.now(), deps.traffic.kbps(s.origin.id)));
  const findOrigin = async (id: string): Promise<OriginStatus | undefined> => (await deps.balancer.listOrigins()).find((s) => s.origin.id === id);
  const notFound = (reply: FastifyReply, what: string) => reply.code(404).type('application/json').send({ code: CODE_NOT_FOUND, error: `${what} not found` });

  app.get('/api/v1/cluster', guarded(async (_req, reply) => {
    const origins = await deps.balancer.listOrigins();
    const edges = deps.edges.list();
    return reply.type('application/json').send({
      code: 0,
      mode: deps.mode(),
      balancer: deps.balancer.kind,
      time: new Date(deps.now()).toISOString(),
      origins: { total: origins.length, alive: origins.filter((o) => o.alive).length },
      streams: origins.reduce((n, o) => n + o.streams, 0),
      edges: { total: edges.length, sessions: edges.reduce((n, e) => n + e.sessions, 0) },
    });
  }));

  app.get('/api/v1/cluster/origins', guarded(async (_req, reply) => {
    const list = (await deps.balancer.listOrigins()).sort((a, b) => a.origin.id.localeCompare(b.origin.id));
    return reply.type('application/json').send({ code: 0, origins: views(list) });
  }));

  app.get<{ Params: { id: string } }>('/api/v1/cluster/origins/:id', guarded(async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const found = await findOrigin(parseOriginId(req.params.id));
    if (found === undefined) return notFound(reply, 'origin');
    return reply.type('application/json').send({ code: 0, origin: views([found])[0] });
  }));

  app.get<{ Params: { id: string } }>('/api/v1/cluster/origins/:id/live', guarded(async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const found = await findOrigin(parseOriginId(req.params.id));
    if (found === undefined) return notFound(reply, 'origin');
    return reply.type('application/json').send({ code: 0, live: await deps.live.one(found.origin) });
  }));

  app.get('/api/v1/cluster/live', guarded(async (_req, reply) => {
    const alive = (await deps.balancer.listOrigins()).filter((s) => s.alive).sort((a, b) => a.origin.id.localeCompare(b.origin.id));
    const origins = await deps.live.many(alive.map((s) => s.origin));
    return reply.type('application/json').send({ code: 0, partial: origins.some((o) => !o.ok), origins });
  }));

  app.get('/api/v1/cluster/streams', guarded(async (req, reply) => {
    const query = parseStreamQuery(req.query as Record<string, unknown>);
    const page = await deps.balancer.listStreamPage(query);
    const totals = deps.edges.totals();
    const now = deps.now();
    return reply.type('application/json').send({
      code: 0,
      streams: page.streams.map((m) => streamView(m, now, totals)),
      next_cursor: page.next === undefined ? null : encodeCursor(page.next),
    });
  }));

  app.get('/api/v1/cluster/streams/players', guarded(async (req, reply) => {
    const streamUrl = parseStreamParam(req.query as Record<string, unknown>);
    const mapping = (await deps.balancer.listStreamPage({ limit: 1, stream_url: streamUrl })).streams[0];
    let origin: { origin_id: string; ok: boolean; error: string | null; clients: unknown[] } | null = null;
    if (mapping !== undefined) {
      const found = await findOrigin(mapping.origin_id);
      if (found !== undefined) {
        const live = await deps.live.one(found.origin);
        origin = { origin_id: live.origin_id, ok: live.ok, error: live.error, clients: live.clients.filter((c) => c.stream_url === streamUrl) };
      }
    }
    return reply.type('application/json').send({
      code: 0,
      stream_url: streamUrl,
      origin_id: mapping?.origin_id ?? null,
      edges: deps.edges.sessionsOf(streamUrl),
      edges_incomplete: deps.edges.truncated(),
      origin,
    });
  }));

  app.get('/api/v1/cluster/edges', guarded(async (_req, reply) => reply.type('application/json').send({ code: 0, edges: deps.edges.list() })));

  // The contract itself is public: it holds no cluster data, and tools fetch it without a token.
  app.get('/api/v1/cluster/openapi.json', async (_req, reply) => reply.type('application/json').send(OPENAPI_DOCUMENT));
}
