import { BoundedMap, resolveEndpoint, formatHostPort, NO_ORIGIN, type Endpoint, type OriginRecord } from '@srs-proxy/balancer';
import type { RegistryClient } from '@srs-proxy/bus';
import { errorCode, errorMessage, type Logger } from '@srs-proxy/runtime';
import type { HeaderList } from './headers.ts';
import { OriginClient, isConnectFailure, type OriginExchange } from './origin-client.ts';
import { OriginFailedError, OriginUnreachableError } from './errors.ts';

/**
 * Origins tried per request: the picked one and, after a refused connect, one other. A second
 * failover would mostly add a registry round trip and a connect timeout to a player's wait.
 */
const MAX_ATTEMPTS = 2;

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
  registry: RegistryClient;
  client: OriginClient;
  logger: Logger;
  /** How long a pick is reused without asking the registry (see HttpEdgeLimits.routeCacheTtlMs). */
  ttlMs: number;
  /** Bound on cached picks whatever stream URLs clients invent. */
  maxEntries: number;
  now: () => number;
  /** Called before each retry on another origin. */
  onFailover: () => void;
}

/**
 * Where the http-edge's requests go: stream URL → origin (picked by the registry, reused for a
 * short TTL) and the pick → fetch → classify → report → retry loop, in one place. This is the
 * seam a shared routing module replaces; nothing else in the edge asks the registry for an origin.
 */
export class EdgeRouting {
  /** stream URL → origin (short-lived; see pickOrigin). */
  readonly #picks: BoundedMap<string, OriginRecord>;
  /** Origin record → its parsed HTTP endpoint; records are replaced (not mutated) on every pick refresh. */
  readonly #targets = new WeakMap<OriginRecord, OriginTarget | null>();
  readonly #now: () => number;

  constructor(private readonly opts: EdgeRoutingOptions) {
    this.#picks = new BoundedMap(opts.ttlMs, opts.maxEntries);
    this.#now = opts.now;
  }

  /** The stream's origin when a recent pick is held (the hot path: no registry, no promise). */
  cachedOrigin(streamUrl: string): OriginRecord | undefined {
    return this.#picks.peek(streamUrl, this.#now());
  }

  /**
   * The stream's origin. Picks are cached for `ttlMs` (a player opening a stream, and every
   * segment request, would otherwise wait for a registry round trip); a connect failure drops
   * the entry and asks the registry afresh with the failed origin avoided. Synchronous on a hit
   * (await on a plain value would still cost a turn of the microtask queue).
   */
  pickOrigin(streamUrl: string, avoid?: string[]): OriginRecord | Promise<OriginRecord> {
    if (avoid === undefined) {
      const cached = this.cachedOrigin(streamUrl);
      if (cached) return cached;
    }
    return this.opts.registry.pick(streamUrl, avoid ? { protocol: 'http', avoid } : { protocol: 'http' }).then(({ origin }) => {
      this.#picks.set(streamUrl, origin, this.#now());
      return origin;
    });
  }

  /**
   * Asks the stream's origin for `request` and resolves once its response headers arrived. A
   * refused connect is reported to the registry and retried on a fresh pick that avoids that
   * origin; other failures reach the caller as they are. When no other origin is left the caller
   * hears about the unreachable one, not "no origin".
   */
  async resolveOrigin(streamUrl: string, request: OriginRequest, inFlight: InFlight): Promise<Fetched> {
    let avoid: string[] | undefined;
    let lastFailure: OriginUnreachableError | undefined;
    for (let attempt = 0; ; attempt++) {
      let origin: OriginRecord;
      try {
        const picked = this.pickOrigin(streamUrl, avoid);
        origin = picked instanceof Promise ? await picked : picked;
      } catch (err) {
        // No other origin to fail over to: the client hears about the unreachable one.
        if (lastFailure && errorCode(err) === NO_ORIGIN) throw lastFailure;
        throw err;
      }
      const to = this.#originTarget(origin);
      if (!to) throw new OriginUnreachableError(`origin ${origin.id} has no http endpoint`);
      if (inFlight.gone) throw new OriginFailedError('client went away before the origin answered');
      const ex = this.opts.client.start(to.url, request);
      inFlight.ex = ex;
      try {
        await ex.head;
        return { origin, to, ex };
      } catch (err) {
        if (!isConnectFailure(err) || inFlight.gone) throw err;
        // Reported before the retry (awaited), so the registry's next pick already avoids it.
        this.#picks.delete(streamUrl);
        const reason = `http connect to ${formatHostPort(to.ep.host, to.ep.port)} failed: ${errorCode(err)}`;
        this.opts.logger.warn({ stream: streamUrl, origin: origin.id, err: errorMessage(err), attempt }, 'origin unreachable, reporting it');
        await this.opts.registry.reportFailure(origin.id, streamUrl, reason).catch((e: unknown) => {
          this.opts.logger.warn({ err: errorMessage(e) }, 'could not report origin failure to the registry');
        });
        lastFailure = OriginClient.unreachable(to.ep, err);
        if (attempt + 1 >= MAX_ATTEMPTS) throw lastFailure;
        this.opts.onFailover();
        avoid = [origin.id];
      }
    }
  }

  /** The HTTP endpoint of an origin record, parsed once per record (undefined: it has none). */
  #originTarget(origin: OriginRecord): OriginTarget | undefined {
    let t = this.#targets.get(origin);
    if (t === undefined) {
      const ep = resolveEndpoint(origin, 'http');
      const authority = ep && formatHostPort(ep.host, ep.port);
      t = ep ? { ep, url: `http://${authority}`, authorities: [authority!, formatHostPort(origin.ip, ep.port)] } : null;
      this.#targets.set(origin, t);
    }
    return t ?? undefined;
  }

  clear(): void {
    this.#picks.clear();
  }
}
