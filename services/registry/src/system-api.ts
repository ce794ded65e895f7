import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { RegisterError, type Balancer, type OriginRecord, parseRegisterBody } from '@srs-proxy/balancer';
import { errorMessage, httpServerTimeouts, RateLimitedLog, PROXY_SERVER_HEADER, PROXY_VERSION_STRING, type Logger } from '@srs-proxy/runtime';
import { decodeRegisterBody, REGISTER_BODY_LIMIT, registerAuthorized, viewAuthorized, type RegisterAuthConfig } from './register-request.ts';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './bus-requests.ts';
import type { RegistryMetrics } from './registry-metrics.ts';
import { registerClusterApi, type ClusterApiDeps } from './cluster-api.ts';
import { registerConsole } from './console-files.ts';

/** Identity the Go proxy reports; SRS tooling and our compatibility tests read it. */
export const SERVER_HEADER = PROXY_SERVER_HEADER;
export const VERSION_BODY = { signature: 'SRSProxy', version: PROXY_VERSION_STRING } as const;

/** Numeric `code` of JSON error bodies: the HTTP status, so clients that only read JSON still see it. */
const CODE_BAD_REQUEST = 400;
const CODE_UNAUTHORIZED = 401;
const CODE_UNAVAILABLE = 503;

/** An origin re-registers every ~10 s; keep-alive connections idle longer than this are reaped. */
const KEEP_ALIVE_TIMEOUT_MS = 15_000;
/** A heartbeat is one small POST: a client that has not sent its request in this time is stalled. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface SystemApiDeps {
  logger: Logger;
  balancer: Balancer;
  metrics: RegistryMetrics;
  auth: RegisterAuthConfig;
  now: () => number;
  /** Called after a successful register (events, logs). */
  onRegistered(origin: OriginRecord, isNew: boolean): void;
  /** The cluster API's collaborators (auth, logger, balancer and clock are the ones above). */
  cluster: Omit<ClusterApiDeps, 'logger' | 'balancer' | 'now' | 'authorized'>;
}

/**
 * The System API (listener `PROXY_SYSTEM_API`):
 *
 * - `ANY /api/v1/srs/register` — SRS 5/6/7 heartbeat, body unchanged, any content type (spec 3.2).
 *   200 `{"code":0,"pid":"<pid>"}`; a bad body is 400 `{"code":400,"error":"empty rtmp","field":"rtmp"}`
 *   and changes nothing (upstream answers 500 and appends the success body: fixed).
 * - `ANY /api/v1/srs/register/<secret>` — the same, authenticated by the path segment
 *   (`PROXY_REGISTER_SECRET`), for origins that cannot send an Authorization header.
 * - `ANY /api/v1/versions` — `{"signature":"SRSProxy","version":"1.5.0"}`.
 * - `GET /api/v1/proxy/origins` — ours: every known origin `{origin, alive, penalized_until}`.
 * - `GET /api/v1/proxy/streams?limit=N` — ours: stream → origin mappings (at most 1000).
 * - `GET /api/v1/cluster/...` — the cluster API (cluster-api.ts, described by openapi.ts).
 * - `GET /console/` — the management console (console-files.ts), which reads the cluster API.
 *
 * With `PROXY_HTTP_API_AUTH_TOKEN` set, register and the cluster views need
 * `Authorization: Bearer <token>` (register also accepts the secret path). Everything else is the
 * Go server's plain-text `404 page not found`.
 */
export function buildSystemApi(deps: SystemApiDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: REGISTER_BODY_LIMIT,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // The request head within the same bound, enforced to the second (Node checks every 30 s).
    http: httpServerTimeouts({ headersTimeoutMs: REQUEST_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS }),
    // fastify's default exact-path matching is upstream's: `/api/v1/versions/` is a 404.
  });
  const log = deps.logger;
  const rejectLog = new RateLimitedLog(log);

  // SRS does not always send `Content-Type: application/json`: every body is taken raw and decoded
  // by decodeRegisterBody, never by fastify's JSON parser.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: REGISTER_BODY_LIMIT }, (_req, body, done) => done(null, body));

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('Server', SERVER_HEADER);
    return payload;
  });

  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).type('text/plain; charset=utf-8').send('404 page not found\n');
  });

  // Framework-level rejections (body too large, bad content-type header, timeouts) stay 4xx JSON;
  // anything unexpected is a 500 that is logged, never a crash.
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) log.error({ err }, 'system API request failed');
    void reply.code(status).type('application/json').send({ code: status, error: err.message, field: status === 413 ? 'body' : undefined });
  });

  const register = async (req: FastifyRequest<{ Params: { secret?: string } }>, reply: FastifyReply) => {
    if (!registerAuthorized(deps.auth, { authorization: req.headers.authorization, pathSecret: req.params.secret })) {
      deps.metrics.registrations.inc({ result: 'unauthorized' });
      rejectLog.warn({ remote: req.ip }, 'register rejected: unauthenticated');
      return reply.code(401).type('application/json').send({ code: CODE_UNAUTHORIZED, error: 'unauthorized' });
    }
    let origin: OriginRecord;
    try {
      origin = parseRegisterBody(decodeRegisterBody(req.body as Buffer | undefined), deps.now());
    } catch (err) {
      if (!(err instanceof RegisterError)) throw err;
      deps.metrics.registrations.inc({ result: 'rejected' });
      rejectLog.warn({ remote: req.ip, field: err.field }, `register rejected: ${err.message}`);
      return reply.code(400).type('application/json').send({ code: CODE_BAD_REQUEST, error: err.message, field: err.field });
    }
    let isNew: boolean;
    try {
      isNew = await deps.balancer.update(origin);
    } catch (err) {
      deps.metrics.registrations.inc({ result: 'error' });
      log.error({ err, origin: origin.id }, 'register failed: balancer store unavailable');
      return reply.code(503).type('application/json').send({ code: CODE_UNAVAILABLE, error: `store unavailable: ${errorMessage(err)}` });
    }
    deps.metrics.registrations.inc({ result: isNew ? 'new' : 'refresh' });
    deps.onRegistered(origin, isNew);
    return reply.code(200).type('application/json').send({ code: 0, pid: String(process.pid) });
  };
  app.all('/api/v1/srs/register', register);
  if (deps.auth.registerSecret) app.all('/api/v1/srs/register/:secret', register);

  app.all('/api/v1/versions', async (_req, reply) => reply.type('application/json').send(VERSION_BODY));

  const requireView = (req: FastifyRequest, reply: FastifyReply): boolean => {
    if (viewAuthorized(deps.auth, req.headers.authorization)) return true;
    void reply.code(401).type('application/json').send({ code: CODE_UNAUTHORIZED, error: 'unauthorized' });
    return false;
  };

  app.get('/api/v1/proxy/origins', async (req, reply) => {
    if (!requireView(req, reply)) return reply;
    const origins = await deps.balancer.listOrigins();
    return reply.type('application/json').send({ code: 0, origins });
  });

  app.get<{ Querystring: { limit?: string } }>('/api/v1/proxy/streams', async (req, reply) => {
    if (!requireView(req, reply)) return reply;
    const raw = req.query.limit;
    const limit = raw === undefined ? DEFAULT_LIST_LIMIT : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      return reply.code(400).type('application/json').send({ code: CODE_BAD_REQUEST, error: `limit must be an integer in 1..${MAX_LIST_LIMIT}`, field: 'limit' });
    }
    const streams = await deps.balancer.listStreams(limit);
    return reply.type('application/json').send({ code: 0, streams });
  });

  registerClusterApi(app, {
    ...deps.cluster,
    logger: log,
    balancer: deps.balancer,
    now: deps.now,
    authorized: (authorization) => viewAuthorized(deps.auth, authorization),
  });
  registerConsole(app);

  return app;
}
