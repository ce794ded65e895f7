import { formatHostPort, type Endpoint, type OriginRecord } from '@srs-proxy/balancer';
import type { EdgeDeps } from '@srs-proxy/bus';
import { createEdgeRouter, OriginFailedError, type ControlPlaneGuard, type OriginRouter } from '@srs-proxy/routing';
import type { HeaderList } from './headers.ts';
import type { OriginHttpClient, OriginExchange } from './origin-client.ts';

/** What requests to one origin record need, worked out once per record. */
export interface OriginTarget {
  ep: Endpoint;
  /** `http://host:port`, the undici origin. */
  url: string;
  /** Authorities by which the origin may name itself in absolute URIs of its documents. */
  authorities: string[];
}

/** An origin request whose response headers arrived, and the origin that answered it. */
export interface Fetched {
  origin: OriginRecord;
  to: OriginTarget;
  ex: OriginExchange;
}

/** The origin request in flight for one client, cancelled if that client leaves first. */
export interface InFlight {
  ex?: OriginExchange;
  gone: boolean;
}

/** What is asked of the origin (headers already filtered for it). */
export interface OriginRequest {
  method: 'GET' | 'HEAD';
  path: string;
  headers: HeaderList;
}

export interface EdgeRoutingOptions {
  /** The edge's collaborators: registry, logger, metrics, bus events, routing settings. */
  deps: EdgeDeps;
  client: OriginHttpClient;
  /** How long a pick is reused without asking the registry (see HttpEdgeLimits.routeCacheTtlMs). */
  ttlMs: number;
  now: () => number;
  /** Called before each retry on another origin. */
  onFailover: () => void;
}

/**
 * Where the http-edge's requests go, on the shared router (libs/routing): stream URL → origin from
 * the route cache (fresh for `ttlMs`, dropped at once by the registry's events and by a connect
 * failure here), and the pick → fetch → classify → report → retry loop. Only the HTTP specifics
 * stay here: the undici origin of an endpoint and the request in flight a client may cancel.
 */
export class EdgeRouting {
  readonly #router: OriginRouter;
  readonly #closeRouter: () => void;
  /** Origin record → where requests to it go; records are replaced (not mutated) on every pick refresh. */
  readonly #targets = new WeakMap<OriginRecord, OriginTarget>();

  constructor(private readonly opts: EdgeRoutingOptions) {
    const routing = createEdgeRouter(opts.deps, { edge: 'http-edge', protocol: 'http', freshTtlMs: opts.ttlMs, now: opts.now });
    this.#router = routing.router;
    this.#closeRouter = routing.close;
  }

  /** The edge's gate to the registry, shared with the session lookups. */
  get controlPlane(): ControlPlaneGuard {
    return this.#router.controlPlane;
  }

  /** The stream's origin when a recent pick is held (the hot path: no registry, no promise). */
  cachedOrigin(streamUrl: string): OriginRecord | undefined {
    return this.#router.cache?.get(streamUrl);
  }

  /** The stream's origin: synchronous on a cache hit (await on a plain value would still cost a microtask turn). */
  pickOrigin(streamUrl: string): OriginRecord | Promise<OriginRecord> {
    return this.#router.pick(streamUrl);
  }

  /**
   * Asks the stream's origin for `request` and resolves once its response headers arrived. An
   * origin that cannot be reached is reported and another tried (PROXY_ORIGIN_ATTEMPTS); other
   * failures reach the caller as they are, as does a client that left meanwhile.
   */
  async resolveOrigin(streamUrl: string, request: OriginRequest, inFlight: InFlight): Promise<Fetched> {
    const { value } = await this.#router.route(streamUrl, async ({ origin, endpoint }) => {
      const to = this.#originTarget(origin, endpoint);
      if (inFlight.gone) throw new OriginFailedError('client went away before the origin answered');
      const ex = this.opts.client.start(to.url, request);
      inFlight.ex = ex;
      await ex.head;
      return { origin, to, ex };
    }, { cancelled: () => inFlight.gone, onFailover: () => this.opts.onFailover() });
    return value;
  }

  /** Reports an origin that hung under a live relay (the shared bounded report; the cached route dropped). */
  reportFailure(streamUrl: string, originId: string, reason: string): Promise<void> {
    return this.#router.reportFailure(streamUrl, originId, reason);
  }

  #originTarget(origin: OriginRecord, ep: Endpoint): OriginTarget {
    let t = this.#targets.get(origin);
    if (t === undefined) {
      const authority = formatHostPort(ep.host, ep.port);
      t = { ep, url: `http://${authority}`, authorities: [authority, formatHostPort(origin.ip, ep.port)] };
      this.#targets.set(origin, t);
    }
    return t;
  }

  clear(): void {
    this.#closeRouter();
  }
}
