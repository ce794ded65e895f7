import { BoundedMap, type HlsSession, type HttpStreamUrl } from '@srs-proxy/balancer';
import type { RegistryClient } from '@srs-proxy/bus';
import { StaleIfErrorMap, type ControlPlaneGuard } from '@srs-proxy/routing';
import { streamKeyOf, plausibleSpbhid, type Route, type StreamKind } from './route.ts';
import { UnknownSessionError } from './errors.ts';

/**
 * Stream keys remembered per Host + target: players repeat a handful of URLs; ids in long ones
 * make them unique anyway, so targets longer than STREAM_KEY_MEMO_MAX_TARGET are not kept.
 */
const STREAM_KEY_MEMO_ENTRIES = 10_000;
const STREAM_KEY_MEMO_MAX_TARGET = 512;

/**
 * A session id (`spbhid`) the registry minted for one stream. The registry calls the record an
 * HLS session; the edge tags HLS playlists and DASH manifests alike with it, and every segment,
 * nested playlist or manifest-relative URI carries it back.
 */
export type SpbhidSession = HlsSession;

/** Which stream a request belongs to, and the session id to tag a rewritten document with. */
export interface StreamTarget {
  streamUrl: string;
  spbhid?: string;
  /** The parsed stream key (live FLV/TS: logged with the session). */
  key?: HttpStreamUrl;
}

export interface StreamSessionsOptions {
  registry: RegistryClient;
  /** The edge's gate to the registry: a known session keeps being served while the control plane is down. */
  controlPlane: ControlPlaneGuard;
  /** How long a session lookup is reused without asking the registry. */
  ttlMs: number;
  /** How long a session is kept to answer from while the control plane does not (PROXY_ROUTE_STALE_MAX_AGE). */
  staleMs: number;
  /** Bound on cached sessions whatever ids clients invent. */
  maxEntries: number;
  now: () => number;
}

/**
 * Requests → streams: the stream key of a URL (memoised), and the registry's spbhid sessions,
 * cached for a short TTL both by id (segments, nested playlists) and by stream (the first
 * playlist or manifest of a stream).
 */
export class StreamSessions {
  /** spbhid → session. */
  readonly #byId: StaleIfErrorMap<string, SpbhidSession>;
  /** stream key → session. */
  readonly #byStream: StaleIfErrorMap<string, SpbhidSession>;
  /** Host + request target → stream key: the same players ask for the same URLs again and again. */
  readonly #streamKeys: BoundedMap<string, HttpStreamUrl>;
  readonly #now: () => number;

  constructor(private readonly opts: StreamSessionsOptions) {
    const maps = { freshMs: opts.ttlMs, staleMs: opts.staleMs, maxEntries: opts.maxEntries, now: opts.now };
    this.#byId = new StaleIfErrorMap(maps);
    this.#byStream = new StaleIfErrorMap(maps);
    this.#streamKeys = new BoundedMap(opts.ttlMs, STREAM_KEY_MEMO_ENTRIES);
    this.#now = opts.now;
  }

  /**
   * Which stream (and session) a request belongs to; synchronous when the registry's answer is
   * cached (await on a plain value would still cost a turn of the microtask queue).
   */
  resolve(kind: StreamKind, r: Route, host: string | undefined): StreamTarget | Promise<StreamTarget> {
    if (kind === 'flv' || kind === 'ts') {
      const key = this.streamKey(r, host);
      return { streamUrl: key.key, key };
    }
    let session: SpbhidSession | Promise<SpbhidSession>;
    if (r.spbhid !== undefined) {
      session = this.#sessionById(r.spbhid);
    } else {
      // Only documents reach here without an id (segments are classified by having one).
      session = this.#sessionForStream(this.streamKey(r, host));
    }
    return session instanceof Promise
      ? session.then((s) => ({ streamUrl: s.stream_url, spbhid: s.spbhid }))
      : { streamUrl: session.stream_url, spbhid: session.spbhid };
  }

  /** The session of a request when it is cached (the hot path: no registry, no promise). */
  cached(r: Route, host: string | undefined): SpbhidSession | undefined {
    return r.spbhid !== undefined ? this.#byId.fresh(r.spbhid) : this.#byStream.fresh(this.streamKey(r, host).key);
  }

  /** The stream key of a request (spec 6.2), remembered for short targets. */
  streamKey(r: Route, host: string | undefined): HttpStreamUrl {
    if (r.target.length > STREAM_KEY_MEMO_MAX_TARGET) return streamKeyOf(r, host);
    const memo = host === undefined ? r.target : `${host}\n${r.target}`;
    const now = this.#now();
    let key = this.#streamKeys.peek(memo, now);
    if (key === undefined) {
      key = streamKeyOf(r, host);
      this.#streamKeys.set(memo, key, now);
    }
    return key;
  }

  clear(): void {
    this.#byId.clear();
    this.#byStream.clear();
    this.#streamKeys.clear();
  }

  #sessionById(spbhid: string): SpbhidSession | Promise<SpbhidSession> {
    if (!plausibleSpbhid(spbhid)) throw new UnknownSessionError(spbhid.slice(0, 64));
    return this.#byId.fresh(spbhid) ?? this.#loadSession(spbhid);
  }

  #loadSession(spbhid: string): Promise<SpbhidSession> {
    return this.opts.controlPlane.ask('hls-session', spbhid, async () => {
      const session = await this.opts.registry.hlsLoad(spbhid);
      if (!session) throw new UnknownSessionError(spbhid);
      this.#byId.set(spbhid, session);
      return session;
    }, () => this.#byId.stale(spbhid));
  }

  #sessionForStream(key: HttpStreamUrl): SpbhidSession | Promise<SpbhidSession> {
    return this.#byStream.fresh(key.key) ?? this.#storeSession(key);
  }

  #storeSession(key: HttpStreamUrl): Promise<SpbhidSession> {
    return this.opts.controlPlane.ask('hls-session', key.key, async () => {
      const session = await this.opts.registry.hlsLoadOrStore(key.key, key.full);
      this.#byStream.set(key.key, session);
      this.#byId.set(session.spbhid, session);
      return session;
    }, () => this.#byStream.stale(key.key));
  }
}
