import { BoundedMap, type HlsSession, type HttpStreamUrl } from '@srs-proxy/balancer';
import type { RegistryClient } from '@srs-proxy/bus';
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
  /** How long a session lookup is reused without asking the registry. */
  ttlMs: number;
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
  readonly #byId: BoundedMap<string, SpbhidSession>;
  /** stream key → session. */
  readonly #byStream: BoundedMap<string, SpbhidSession>;
  /** Host + request target → stream key: the same players ask for the same URLs again and again. */
  readonly #streamKeys: BoundedMap<string, HttpStreamUrl>;
  readonly #now: () => number;

  constructor(private readonly opts: StreamSessionsOptions) {
    this.#byId = new BoundedMap(opts.ttlMs, opts.maxEntries);
    this.#byStream = new BoundedMap(opts.ttlMs, opts.maxEntries);
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
    const now = this.#now();
    return r.spbhid !== undefined ? this.#byId.peek(r.spbhid, now) : this.#byStream.peek(this.streamKey(r, host).key, now);
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
    return this.#byId.peek(spbhid, this.#now()) ?? this.#loadSession(spbhid);
  }

  async #loadSession(spbhid: string): Promise<SpbhidSession> {
    const session = await this.opts.registry.hlsLoad(spbhid);
    if (!session) throw new UnknownSessionError(spbhid);
    this.#byId.set(spbhid, session, this.#now());
    return session;
  }

  #sessionForStream(key: HttpStreamUrl): SpbhidSession | Promise<SpbhidSession> {
    return this.#byStream.peek(key.key, this.#now()) ?? this.#storeSession(key);
  }

  async #storeSession(key: HttpStreamUrl): Promise<SpbhidSession> {
    const session = await this.opts.registry.hlsLoadOrStore(key.key, key.full);
    const now = this.#now();
    this.#byStream.set(key.key, session, now);
    this.#byId.set(session.spbhid, session, now);
    return session;
  }
}
