import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  normalizeStreamUrl, resolveEndpoints, formatHostPort, streamUrlFromHttp, SESSION_DTO_VERSION,
  type Endpoint, type OriginRecord, type RtcSession,
} from '@srs-proxy/balancer';
import type { RegistryClient } from '@srs-proxy/bus';
import { whipAnswer, OriginNoEndpointError, type CodeAnswers, type OriginRouter } from '@srs-proxy/routing';
import {
  errorCode, errorMessage, httpServerTimeouts, injectTraceHeaders, listenTcp, sessionLogger, withSpan, ProxyError, type ListenAddress, type Logger,
} from '@srs-proxy/runtime';
import { extractIce, rewriteAnswer, type IceCredentials, type RewrittenAnswer } from './sdp-answer.ts';
import { proxyLocation, resolveResource, type RtcKind } from './whip-location.ts';
import { OriginApiClient, type OriginResponse } from './origin-client.ts';
import { BadOriginAnswerError, RtcRequestError, SdpError, BAD_ORIGIN_ANSWER, BAD_RTC_REQUEST, BAD_SDP } from './errors.ts';
import type { RtcMetrics } from './metrics.ts';

/** Offers (SDP or the legacy JSON) larger than this are refused: Chrome's biggest are ~20 KB. */
export const MAX_OFFER_BYTES = 256 * 1024;
/** Whole-request receive bound (slow-loris): an offer is one small POST. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Header receive bound for the signalling listener. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** rtc-edge errors whose messages are written for the client; every other error gets a generic text. */
const RTC_CODES: CodeAnswers = { [BAD_SDP]: 'message', [BAD_RTC_REQUEST]: 'message', [BAD_ORIGIN_ANSWER]: 'message' };

const VERSION_BODY = JSON.stringify({ signature: 'SRSProxy', version: '1.5.0' });
const SERVER_HEADER = 'SRSProxy/1.5.0';
const CORS: Record<string, string> = {
  'access-control-allow-origin': '*',
  // `*` does not cover Authorization (WHIP bearer tokens) in browsers, so it is listed as well.
  'access-control-allow-headers': '*, Authorization',
  'access-control-allow-methods': '*',
  // Without this a browser WHIP client cannot read the resource URL it must DELETE.
  'access-control-expose-headers': 'Location, ETag, Link, Accept-Patch',
};
/** Origin response headers never copied to the client (hop-by-hop, recomputed, or ours). */
const SKIPPED_HEADERS = new Set([
  'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-connection',
  'content-length', 'date', 'location',
]);
/** Client request headers forwarded to the origin. */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'authorization', 'if-match', 'if-none-match', 'accept'];

export interface SignallingOptions {
  /** The UDP port written into candidates (the relay's bound port). */
  udpPort: () => number;
  /** PROXY_RTC_CANDIDATE */
  candidateIp: string | undefined;
}

interface SignallingDeps {
  logger: Logger;
  registry: RegistryClient;
  /** Picks, failover and reports for the origins' API endpoints (libs/routing). */
  router: OriginRouter;
  metrics: RtcMetrics;
  /** The local relay: sessions signalled here are relayed without a registry lookup. */
  relay: { remember(session: RtcSession): void; end(ufrag: string, reason: string): boolean };
  /** A WHIP (or legacy publish) offer was answered: the session is a publisher of its stream. */
  onPublisher?: (session: RtcSession) => void;
}

type Api = 'whip' | 'whep' | 'publish' | 'play' | 'resource' | 'versions' | 'redirect' | 'other';

class Reply {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[]>,
    readonly body: string | Buffer,
  ) {}
}

/**
 * The HTTP API listener (spec 7.1, 7.4, 9): WHIP/WHEP and the legacy SRS JSON API are forwarded
 * to the origin picked for the stream, the answer is rewritten so media comes to this edge, and
 * the session is stored so any rtc-edge replica can relay it. Everything is validated before a
 * status is written; no handler error escapes.
 *
 * Routes: `/api/v1/versions` (answered here), `/rtc/v1/whip/…` and `/rtc/v1/whep/…` (POST: new
 * session; DELETE/PATCH: the session resource, passed through to the origin that created it),
 * `/rtc/v1/publish/` and `/rtc/v1/play/` (legacy JSON), 301 for the no-slash forms. Anything
 * else, including the rest of SRS's `/api/v1/*`, is 404 as upstream: per-origin APIs are read on
 * each origin, cluster views are the registry's System API.
 */
export class RtcSignalling {
  readonly server: Server;
  private readonly origins: OriginApiClient;
  private closed = false;

  constructor(
    private readonly deps: SignallingDeps,
    private readonly opts: SignallingOptions,
  ) {
    this.origins = new OriginApiClient(deps.router.settings.connectTimeoutMs);
    this.server = createServer(httpServerTimeouts({ requestTimeoutMs: REQUEST_TIMEOUT_MS, headersTimeoutMs: HEADERS_TIMEOUT_MS }), (req, res) => {
      void this.handle(req, res);
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  listen(addr: ListenAddress): Promise<number> {
    return listenTcp(this.server, addr);
  }

  /** Stops listening; requests in flight finish and idle keep-alive connections are closed. */
  stopAccepting(): void {
    if (this.server.listening) this.server.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.server.closeAllConnections();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.origins.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    let api: Api = 'other';
    let reply: Reply;
    // The stream an offer named, once known: an error answer may name it (it is the client's own).
    const asked: { stream?: string } = {};
    try {
      if (pathname === '/api/v1/versions') {
        api = 'versions';
        reply = new Reply(200, { 'content-type': 'application/json', server: SERVER_HEADER }, VERSION_BODY);
      } else if (/^\/rtc\/v1\/(whip|whep|publish|play)$/.test(pathname)) {
        api = 'redirect';
        reply = new Reply(301, { location: `${pathname}/${rawQuery ? `?${rawQuery}` : ''}`, ...CORS }, '');
      } else if (pathname.startsWith('/rtc/v1/whip/') || pathname.startsWith('/rtc/v1/whep/')) {
        const kind: RtcKind = pathname.startsWith('/rtc/v1/whip/') ? 'whip' : 'whep';
        if (req.method === 'OPTIONS') {
          api = kind;
          reply = new Reply(200, { ...CORS }, '');
        } else if (req.method === 'POST') {
          api = kind;
          reply = await this.offer(req, kind, pathname, rawQuery, asked);
        } else if (req.method === 'DELETE' || req.method === 'PATCH') {
          api = 'resource';
          reply = await this.resource(req, pathname, rawQuery);
        } else {
          reply = new Reply(405, { allow: 'POST, DELETE, PATCH, OPTIONS', ...CORS }, 'method not allowed\n');
        }
      } else if (pathname === '/rtc/v1/publish/' || pathname === '/rtc/v1/play/') {
        api = pathname === '/rtc/v1/publish/' ? 'publish' : 'play';
        if (req.method === 'OPTIONS') reply = new Reply(200, { ...CORS }, '');
        else if (req.method === 'POST') reply = await this.legacy(req, api, pathname, rawQuery, asked);
        else reply = new Reply(405, { allow: 'POST, OPTIONS', ...CORS }, 'method not allowed\n');
      } else {
        reply = new Reply(404, { 'content-type': 'text/plain; charset=utf-8' }, '404 page not found\n');
      }
    } catch (err) {
      reply = this.errorReply(err, pathname, asked.stream);
    }
    this.deps.metrics.signalling.inc({ api, status: String(reply.status) });
    if (res.headersSent || res.destroyed) return;
    try {
      res.writeHead(reply.status, reply.headers).end(reply.body);
    } catch (err) {
      this.deps.logger.warn({ err }, 'writing a signalling response failed');
      res.destroy();
    }
  }

  private errorReply(err: unknown, pathname: string, stream: string | undefined): Reply {
    // The client gets the kind of failure; origin ids, addresses and registry details stay in the log.
    const { status, text, retryAfter } = whipAnswer(err, { stream, codes: RTC_CODES });
    const level = status >= 500 ? 'warn' : 'info';
    this.deps.logger[level]({ err, code: errorCode(err), path: pathname }, `WebRTC signalling failed: ${errorMessage(err)}`);
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', ...CORS };
    if (status === 413) headers.connection = 'close';
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
    return new Reply(status, headers, `${text}\n`);
  }

  /** WHIP/WHEP POST: offer in, rewritten answer out (spec 7.1 with its bugs fixed). */
  private async offer(req: IncomingMessage, kind: RtcKind, pathname: string, rawQuery: string, asked: { stream?: string }): Promise<Reply> {
    const offer = await readBody(req, MAX_OFFER_BYTES);
    const offerText = offer.toString('utf8');
    const offerIce = extractIce(offerText, 'offer');
    const key = streamUrlFromHttp({ host: req.headers.host, path: pathname, query: new URLSearchParams(rawQuery) });
    asked.stream = key.key;
    const log = sessionLogger(this.deps.logger, { proto: kind, stream: key.key });
    const label = kind === 'whip' ? 'WHIP' : 'WHEP';
    log.info({ client: remoteOf(req) }, `Got WebRTC ${label} from ${remoteOf(req)} with ${offer.length}B offer for ${key.full}`);
    return withSpan(`rtc.signalling.${kind}`, { 'srsp.stream': key.key, 'srsp.rtc.kind': kind }, async (span) => {
      const headers = this.originHeaders(req, 'application/sdp');
      const { origin, api, res } = await this.toOrigin(key.key, 'POST', `${pathname}${rawQuery ? `?${rawQuery}` : ''}`, headers, offer, log);
      span.setAttribute('srsp.origin', origin.id);
      if (res.status < 200 || res.status > 299) {
        log.warn({ status: res.status, origin: origin.id }, `origin refused the ${label} offer`);
        return passReply(res, undefined);
      }
      const answer = this.rewrite(res.body.toString('utf8'));
      const session = await this.store(key.key, origin, api, answer, offerIce, log);
      if (kind === 'whip') this.deps.onPublisher?.(session);
      span.setAttribute('srsp.rtc.ufrag', session.ufrag);
      const location = firstHeader(res.headers.location);
      let proxied: string | undefined;
      if (location !== undefined) {
        proxied = proxyLocation(location, { originBase: `http://${formatHostPort(api.host, api.port)}`, kind, originId: origin.id, session: session.ufrag });
        if (proxied === undefined) log.warn({ location }, 'origin sent an unparsable Location; dropped');
      }
      const reply = passReply({ ...res, body: Buffer.from(answer.sdp) }, proxied);
      if (reply.headers['content-type'] === undefined) reply.headers['content-type'] = 'application/sdp';
      log.info(
        { origin: origin.id, status: res.status, candidates: answer.candidates, dropped: answer.dropped },
        `Create WebRTC connection with local answer ${answer.sdp.length}B with ice-ufrag=${answer.ice.ufrag}, ice-pwd=${answer.ice.pwd.length}B`,
      );
      return reply;
    });
  }

  /** Legacy SRS API: `{"sdp", "streamurl", …}` → `{"code":0, "sdp", "sessionid", …}` (spec 7.4). */
  private async legacy(req: IncomingMessage, api: 'publish' | 'play', pathname: string, rawQuery: string, asked: { stream?: string }): Promise<Reply> {
    const raw = await readBody(req, MAX_OFFER_BYTES);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new RtcRequestError('body is not JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RtcRequestError('body must be a JSON object');
    const { sdp, streamurl } = body as { sdp?: unknown; streamurl?: unknown };
    if (typeof sdp !== 'string' || sdp === '') throw new RtcRequestError('missing sdp');
    if (typeof streamurl !== 'string' || streamurl === '') throw new RtcRequestError('missing streamurl');
    const offerIce = extractIce(sdp, 'offer');
    const key = normalizeStreamUrl(streamurl);
    asked.stream = key;
    const log = sessionLogger(this.deps.logger, { proto: `rtc-${api}`, stream: key });
    log.info({ client: remoteOf(req) }, `Got WebRTC ${api} from ${remoteOf(req)} with ${sdp.length}B offer for ${streamurl}`);
    return withSpan(`rtc.signalling.${api}`, { 'srsp.stream': key, 'srsp.rtc.kind': api }, async (span) => {
      const headers = this.originHeaders(req, 'application/json');
      const { origin, api: apiEndpoint, res } = await this.toOrigin(key, 'POST', `${pathname}${rawQuery ? `?${rawQuery}` : ''}`, headers, raw, log);
      span.setAttribute('srsp.origin', origin.id);
      let answerBody: unknown;
      try {
        answerBody = JSON.parse(res.body.toString('utf8'));
      } catch {
        answerBody = undefined;
      }
      const a = answerBody as { code?: unknown; sdp?: unknown } | undefined;
      if (res.status < 200 || res.status > 299 || typeof a !== 'object' || a === null || a.code !== 0 || typeof a.sdp !== 'string') {
        log.warn({ status: res.status, origin: origin.id }, `origin refused the legacy ${api} offer`);
        return passReply(res, undefined);
      }
      const answer = this.rewrite(a.sdp);
      const session = await this.store(key, origin, apiEndpoint, answer, offerIce, log);
      if (api === 'publish') this.deps.onPublisher?.(session);
      span.setAttribute('srsp.rtc.ufrag', session.ufrag);
      const out = JSON.stringify({ ...(a as object), sdp: answer.sdp });
      const reply = passReply({ ...res, body: Buffer.from(out) }, undefined);
      reply.headers['content-type'] = 'application/json';
      log.info({ origin: origin.id }, `Create WebRTC connection with local answer ${answer.sdp.length}B with ice-ufrag=${answer.ice.ufrag}, ice-pwd=${answer.ice.pwd.length}B`);
      return reply;
    });
  }

  /** WHIP/WHEP resource requests (DELETE ends a session, PATCH trickles ICE): plain pass-through. */
  private async resource(req: IncomingMessage, pathname: string, rawQuery: string): Promise<Reply> {
    const body = await readBody(req, MAX_OFFER_BYTES);
    const target = resolveResource(pathname, rawQuery);
    let origin: OriginRecord;
    if (target.originId !== undefined) {
      // One question about the origin the resource names, not a listing of the whole fleet.
      const found = await this.deps.registry.getOrigin(target.originId);
      if (found === undefined || !found.alive) throw new RtcRequestError('unknown WebRTC resource: its origin is gone', 404);
      origin = found.origin;
    } else {
      // A resource URL this proxy did not issue: route like the stream it names (sticky).
      const key = streamUrlFromHttp({ host: req.headers.host, path: pathname, query: new URLSearchParams(rawQuery) });
      origin = await this.deps.router.pick(key.key);
    }
    const api = this.deps.router.endpointOf(origin);
    const res = await this.origins.send(api, req.method!, target.path, this.originHeaders(req, undefined), body);
    this.deps.logger.info({ method: req.method, origin: origin.id, status: res.status }, `WebRTC ${req.method} passed to origin`);
    // The origin ended the session: release its relay socket now rather than at the idle timeout.
    // (Only on this replica; another replica relaying it still closes it when it goes idle.)
    if (req.method === 'DELETE' && res.status >= 200 && res.status <= 299 && target.session !== undefined) {
      this.deps.relay.end(target.session, 'WHIP/WHEP DELETE');
    }
    return passReply(res, undefined);
  }

  /** Sends the request to the stream's origin through the router (failover when the connect fails). */
  private async toOrigin(
    key: string, method: string, pathAndQuery: string, headers: Record<string, string>, body: Buffer, log: Logger,
  ): Promise<{ origin: OriginRecord; api: Endpoint; res: OriginResponse }> {
    const { target, value } = await this.deps.router.route(key, ({ endpoint }) => this.origins.send(endpoint, method, pathAndQuery, headers, body), { log });
    return { origin: target.origin, api: target.endpoint, res: value };
  }

  private rewrite(answerSdp: string): RewrittenAnswer {
    try {
      return rewriteAnswer(answerSdp, { port: this.opts.udpPort(), ip: this.opts.candidateIp });
    } catch (err) {
      if (err instanceof SdpError) throw new BadOriginAnswerError(`origin answer unusable: ${err.message}`, err);
      throw err;
    }
  }

  /** Records the session here and in the registry before the client gets the answer. */
  private async store(key: string, origin: OriginRecord, api: Endpoint, answer: RewrittenAnswer, offer: IceCredentials, log: Logger): Promise<RtcSession> {
    const target = rtcTargetOf(origin, api, answer.originPorts);
    const session: RtcSession = {
      v: SESSION_DTO_VERSION,
      ufrag: `${answer.ice.ufrag}:${offer.ufrag}`,
      stream_url: key,
      origin_id: origin.id,
      rtc_host: target.host,
      rtc_port: target.port,
    };
    this.deps.relay.remember(session);
    try {
      // Awaited: a client may send its first check to another replica right after the answer.
      await this.deps.registry.rtcStore(session);
    } catch (err) {
      log.warn({ err }, `storing the WebRTC session in the registry failed; only this edge can relay it: ${errorMessage(err)}`);
    }
    return session;
  }

  private originHeaders(req: IncomingMessage, defaultType: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    if (headers['content-type'] === undefined && defaultType !== undefined) headers['content-type'] = defaultType;
    const remote = req.socket.remoteAddress ?? '';
    const xff = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = typeof xff === 'string' && xff ? `${xff}, ${remote}` : remote;
    headers['x-real-ip'] = typeof req.headers['x-real-ip'] === 'string' ? req.headers['x-real-ip'] : remote;
    return injectTraceHeaders(headers);
  }
}

function remoteOf(req: IncomingMessage): string {
  return `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Where the relay sends the session's datagrams: the registered RTC endpoint whose port the
 * answer advertised, else the first registered UDP one, else (an origin that registered no `rtc`)
 * the answer's candidate port at the origin's API host.
 */
export function rtcTargetOf(origin: OriginRecord, api: Endpoint, answerPorts: readonly number[]): { host: string; port: number } {
  let endpoints: Endpoint[] = [];
  try {
    endpoints = resolveEndpoints(origin, 'rtc').filter((e) => e.proto !== 'tcp');
  } catch {
    endpoints = [];
  }
  for (const port of answerPorts) {
    const e = endpoints.find((x) => x.port === port);
    if (e) return { host: e.host, port: e.port };
  }
  if (endpoints[0]) return { host: endpoints[0].host, port: endpoints[0].port };
  const port = answerPorts[0];
  if (port === undefined) throw new OriginNoEndpointError(`origin ${origin.id} has no WebRTC UDP endpoint`);
  return { host: api.host, port };
}

/** The origin's status, headers (minus hop-by-hop) and body, with our CORS headers. */
function passReply(res: OriginResponse, location: string | undefined): Reply {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    const n = name.toLowerCase();
    if (value === undefined || SKIPPED_HEADERS.has(n) || n.startsWith('access-control-')) continue;
    headers[n] = value;
  }
  if (location !== undefined) headers.location = location;
  Object.assign(headers, CORS);
  return new Reply(res.status, headers, res.body);
}

/** Reads a request body up to `max` bytes; a larger one is refused with 413. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) {
    req.resume();
    return Promise.reject(new RtcRequestError(`body larger than ${max} bytes`, 413));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.resume();
        reject(new RtcRequestError(`body larger than ${max} bytes`, 413));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    req.once('aborted', () => reject(new RtcRequestError('client aborted the request', 499)));
  });
}
