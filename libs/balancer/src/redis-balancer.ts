import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { ProxyError } from '@srs-proxy/runtime';
import {
  DEFAULT_BALANCER_OPTIONS,
  type Balancer,
  type BalancerOptions,
  type HlsSession,
  type OriginStatus,
  type PickOptions,
  type PickResult,
  type PlacementAnswer,
  type PlacementClaim,
  type PlacementOutcome,
  type RtcSession,
  type StreamMapping,
  type StreamPage,
  type StreamQuery,
} from './balancer.ts';
import { NoOriginError, PlacementSettlingError, StoreUnavailableError } from './errors.ts';
import { checkPlacementBatch, mappingVerdict, noOriginMessage } from './mapping.ts';
import { DEFAULT_LIST_STREAMS_LIMIT } from './memory-balancer.ts';
import { ENDPOINT_KINDS, type EndpointKind, type OriginRecord } from './origin.ts';
import { pageOf } from './stream-page.ts';
import { isAlive, loadScore, place, type Candidate } from './placement.ts';
import { ASSERT_PLACEMENTS, HLS_LOAD_BY_ID, HLS_LOAD_OR_STORE, PICK, PLACE, PROTOCOL_MASKS, REPORT_FAILURE, STORE_EPOCH, SWEEP_ORIGINS, UPDATE_ORIGIN } from './redis-scripts.ts';

export interface RedisConnection {
  host: string;
  port: number;
  password?: string | undefined;
  db: number;
  /** `PROXY_REDIS_KEY_PREFIX`: every key starts with it, so several clusters can share one Redis. */
  keyPrefix: string;
}

/** Value of `<prefix>stream:<url>`. */
export interface StreamMappingDto {
  v: number;
  origin_id: string;
  /** When the mapping was placed, ms epoch (absent in mappings written before it existed). */
  placed_at?: number;
  /** Protocol of the pick that placed it. */
  protocol?: EndpointKind;
}
export const STREAM_MAPPING_VERSION = 1;

/** One Redis command may take this long; under the registry's 2 s request budget with room for a retry. */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;
/** Connecting may take this long before init fails (start-up ordering, e.g. compose). */
export const REDIS_CONNECT_TIMEOUT_MS = 5_000;
/** A request issued while Redis is unreachable fails after one retry instead of queueing forever. */
export const REDIS_MAX_RETRIES_PER_REQUEST = 1;
/** Reconnect backoff: 100 ms steps, capped so a restarted Redis is back in use within ~0.5 s. */
export const REDIS_RECONNECT_MAX_DELAY_MS = 500;
/** A record outlives its liveness window this many times over, so sweepExpired can still name it. */
export const ORIGIN_RECORD_TTL_FACTOR = 2;
/**
 * Round trips of candidates-then-store a pick may take: losing a race to another replica costs one
 * more read (adopting its choice), replacing a failed mapping one more; four covers both.
 */
export const PICK_CAS_ATTEMPTS = 4;
/** Random start ranks for the pick script's sample: small integers convert to arguments cheaply. */
const PICK_START_RANGE = 2 ** 30;
/**
 * Parsed origin records kept for reuse, keyed by id and compared with the raw JSON just read, so
 * a hit is exactly what Redis holds (never stale). Far above a real fleet; bounds memory (records
 * are ~1 KB) when ids churn.
 */
export const PARSED_ORIGIN_CACHE_MAX = 4_096;
/**
 * A first pick compares at most this many alive origins (a random window of the index): every real
 * fleet is read whole, and a 10k-origin flood costs 256 candidates, not 10k, per new stream.
 */
export const PICK_SAMPLE_SIZE = 256;
/** Records per MGET when every alive origin must be read (listOrigins, rare protocol). */
export const MGET_CHUNK = 1_000;
/** Origins removed per sweep script call, so one call never blocks Redis for long. */
export const SWEEP_BATCH = 500;
/** SCAN page size and round limit for listStreams: bounded work however many keys exist. */
export const SCAN_COUNT = 500;
export const SCAN_MAX_ROUNDS = 200;

/** Bit of each endpoint kind in the protocol index masks (`origins:m:<mask>`). */
export const PROTOCOL_BITS: Readonly<Record<EndpointKind, number>> = { rtmp: 1, http: 2, api: 4, srt: 8, rtc: 16 };

function protocolMask(origin: OriginRecord): number {
  let mask = 0;
  for (const kind of Object.keys(PROTOCOL_BITS) as EndpointKind[]) if (origin[kind].length > 0) mask |= PROTOCOL_BITS[kind];
  return mask;
}

const SCRIPTS = {
  srspPick: { numberOfKeys: 4, lua: PICK },
  srspPlace: { numberOfKeys: 2, lua: PLACE },
  srspUpdateOrigin: { numberOfKeys: 4, lua: UPDATE_ORIGIN },
  srspReportFailure: { numberOfKeys: 4, lua: REPORT_FAILURE },
  srspHlsLoadOrStore: { numberOfKeys: 2, lua: HLS_LOAD_OR_STORE },
  srspHlsLoadById: { numberOfKeys: 1, lua: HLS_LOAD_BY_ID },
  srspSweepOrigins: { numberOfKeys: 1, lua: SWEEP_ORIGINS },
  srspAssertPlacements: { numberOfKeys: 1, lua: ASSERT_PLACEMENTS },
  srspStoreEpoch: { numberOfKeys: 1, lua: STORE_EPOCH },
} as const;
const PLACEMENT_OUTCOMES: ReadonlySet<string> = new Set<PlacementOutcome>(['written', 'refreshed', 'conflict', 'unknown-origin']);
type ScriptName = keyof typeof SCRIPTS;

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

function parseJson<T>(raw: string | null | undefined, valid: (v: Record<string, unknown>) => boolean): T | undefined {
  if (!raw) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    // Readers accept any version with the fields they need: older writers stay readable.
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { v?: unknown }).v === 'number' && valid(v as Record<string, unknown>)) return v as T;
  } catch {
    // A corrupt value (another writer, manual edits) reads as absent rather than failing the request.
  }
  return undefined;
}

const parseOrigin = (raw: string | null | undefined) =>
  parseJson<OriginRecord>(raw, (o) => typeof o.id === 'string' && typeof o.ip === 'string' && Array.isArray(o.rtmp) && typeof o.updated_at === 'number');
const parseHls = (raw: string | null | undefined) =>
  parseJson<HlsSession>(raw, (o) => typeof o.spbhid === 'string' && typeof o.stream_url === 'string');
const parseRtc = (raw: string | null | undefined) =>
  parseJson<RtcSession>(raw, (o) => typeof o.ufrag === 'string' && typeof o.stream_url === 'string');
const parseMapping = (raw: string | null | undefined) => parseJson<StreamMappingDto>(raw, (o) => typeof o.origin_id === 'string');

function mappingOf(stream_url: string, m: StreamMappingDto): StreamMapping {
  const out: StreamMapping = { stream_url, origin_id: m.origin_id };
  if (typeof m.placed_at === 'number') out.placed_at = m.placed_at;
  if (typeof m.protocol === 'string' && (ENDPOINT_KINDS as readonly string[]).includes(m.protocol)) out.protocol = m.protocol;
  return out;
}

/**
 * Balancer state in Redis, shared by every registry replica. Keys (all under the prefix):
 *
 * | key | value | TTL |
 * |---|---|---|
 * | `origin:<id>` | OriginRecord JSON | origin TTL × ORIGIN_RECORD_TTL_FACTOR, refreshed per heartbeat |
 * | `origins` | ZSET id → last heartbeat (ms) | members removed by sweepExpired |
 * | `origins:m:<mask>` | protocol index: ZSET id → last heartbeat, one ZSET per endpoint-kind mask | record TTL, refreshed per heartbeat; trimmed by sweepExpired |
 * | `load:<id>` | loadScore of the last heartbeat ('' = none) | as the record |
 * | `stream:<url>` | StreamMappingDto JSON | stream TTL, refreshed on every pick |
 * | `placed:<id>` | ZSET stream URL → mapping expiry (ms): live streams on the origin | stream TTL, refreshed with its mappings |
 * | `penalties` | ZSET id → penalised until (ms) | penalty, refreshed per report |
 * | `fail:<url>` | ZSET id → failed for this stream until (ms) | penalty |
 * | `hls:<url>`, `spbhid:<id>` | HlsSession JSON | HLS TTL, refreshed on use |
 * | `rtc:<ufrag>` | RtcSession JSON | RTC TTL, refreshed on lookup |
 * | `epoch` | random id written (SET NX) by the first registry after the store came up empty | none: one key |
 *
 * A heartbeat costs one script of SET + SET + ZADD + ZADD + PEXPIRE (+ ZCARD for a new origin):
 * O(log n), no list rewrite. A repeat pick is one script round trip (PICK answers the sticky
 * mapping). A first pick is two: PICK returns the candidates with their stream counts and loads,
 * placement.ts chooses, and PLACE stores the mapping with a compare-and-set (a replica that lost
 * the race re-reads and adopts the winner's choice).
 */
export class RedisBalancer implements Balancer {
  readonly kind = 'redis' as const;
  readonly options: BalancerOptions;
  readonly prefix: string;
  /** Last connection error, for logs of the owner (ioredis reports them as events). */
  lastError: Error | undefined;
  readonly #redis: Redis;
  /** Connections made so far ('ready' events): more than one means the store came back after a loss. */
  #connects = 0;
  /** id → last raw record JSON and its parse (see PARSED_ORIGIN_CACHE_MAX). */
  readonly #parsed = new Map<string, { raw: string; origin: OriginRecord | undefined }>();
  /**
   * origin id → this replica's placements chosen but not yet stored: added to the counts Redis
   * returned, so a burst of concurrent first picks (which all read the same counts) spreads
   * instead of piling onto the same least-loaded origin. Entries live for one round trip.
   */
  readonly #pending = new Map<string, number>();
  /** The store epoch this replica last saw (detectReset). */
  #epoch: string | undefined;
  #closed = false;

  constructor(conn: RedisConnection, opts: Partial<BalancerOptions> = {}) {
    this.options = { ...DEFAULT_BALANCER_OPTIONS, ...opts };
    this.prefix = conn.keyPrefix;
    this.#redis = new Redis({
      host: conn.host,
      port: conn.port,
      ...(conn.password ? { password: conn.password } : {}),
      db: conn.db,
      lazyConnect: true,
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: REDIS_MAX_RETRIES_PER_REQUEST,
      // While disconnected, fail fast: an edge waiting on a pick would rather get an error now.
      enableOfflineQueue: false,
      retryStrategy: (times) => Math.min(times * 100, REDIS_RECONNECT_MAX_DELAY_MS),
      scripts: SCRIPTS,
      // Commands issued in the same tick share one write (and Redis one read): under load this
      // removes most per-command syscalls; a lone command still goes out at once.
      enableAutoPipelining: true,
    });
    this.#redis.on('error', (err: Error) => {
      this.lastError = err;
    });
    this.#redis.on('ready', () => {
      this.#connects++;
    });
  }

  onReconnect(listener: () => void): void {
    // 'ready' follows every (re)connect (counted by the constructor's listener, which runs first);
    // the first is init's own and needs no check.
    this.#redis.on('ready', () => {
      if (this.#connects > 1) listener();
    });
  }

  #key(...parts: string[]): string {
    return this.prefix + parts.join('');
  }

  async #run<T>(what: string, fn: (r: Redis) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreUnavailableError(`redis balancer is closed (${what})`);
    try {
      return await fn(this.#redis);
    } catch (err) {
      if (err instanceof ProxyError) throw err;
      throw new StoreUnavailableError(`redis ${what}: ${(err as Error).message}`, err);
    }
  }

  #script(r: Redis, name: ScriptName, ...args: Array<string | number>): Promise<unknown> {
    return (r as unknown as Record<ScriptName, (...a: Array<string | number>) => Promise<unknown>>)[name](...args);
  }

  async init(): Promise<void> {
    await this.#run('connect', async (r) => {
      if (r.status === 'wait') await r.connect();
      await r.ping();
      this.#epoch = await this.#storeEpoch(r);
    });
  }

  /** The store's epoch, set now (SET NX) when the store has none. */
  async #storeEpoch(r: Redis): Promise<string> {
    return String(await this.#script(r, 'srspStoreEpoch', this.#key('epoch'), randomBytes(8).toString('hex')));
  }

  async detectReset(): Promise<boolean> {
    return this.#run('detectReset', async (r) => {
      const epoch = await this.#storeEpoch(r);
      if (epoch === this.#epoch) return false;
      this.#epoch = epoch;
      return true;
    });
  }

  async assertPlacement(claims: readonly PlacementClaim[]): Promise<PlacementAnswer[]> {
    checkPlacementBatch(claims);
    if (claims.length === 0) return [];
    const now = this.options.now();
    const args: Array<string | number> = [now, this.options.originTtlMs, this.options.streamTtlMs, this.prefix];
    for (const c of claims) {
      const dto: StreamMappingDto = { v: STREAM_MAPPING_VERSION, origin_id: c.origin_id, placed_at: now };
      if (c.protocol !== undefined) dto.protocol = c.protocol;
      args.push(c.stream_url, c.origin_id, JSON.stringify(dto));
    }
    return this.#run('assertPlacement', async (r) => {
      const out = (await this.#script(r, 'srspAssertPlacements', this.#key('origins'), ...args)) as string[];
      if (out.length !== claims.length * 2) throw new StoreUnavailableError(`redis assertPlacement: ${out.length} answers for ${claims.length} claims`);
      return claims.map((_, i): PlacementAnswer => {
        const outcome = String(out[2 * i]);
        if (!PLACEMENT_OUTCOMES.has(outcome)) throw new StoreUnavailableError(`redis assertPlacement: unexpected outcome ${outcome}`);
        const replaced = String(out[2 * i + 1]);
        return outcome === 'conflict' ? { outcome, replaced } : { outcome: outcome as PlacementOutcome };
      });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }

  async ping(): Promise<void> {
    await this.#run('ping', (r) => r.ping());
  }

  async update(origin: OriginRecord): Promise<boolean> {
    const ttl = this.options.originTtlMs * ORIGIN_RECORD_TTL_FACTOR;
    const originsKey = this.#key('origins');
    return this.#run('update', async (r) => {
      const [added, count] = (await this.#script(
        r,
        'srspUpdateOrigin',
        this.#key('origin:', origin.id),
        originsKey,
        this.#key('origins:m:', String(protocolMask(origin))),
        this.#key('load:', origin.id),
        JSON.stringify(origin),
        ttl,
        origin.updated_at,
        origin.id,
        loadScore(origin.summaries) ?? '',
      )) as [number, number];
      if (count > this.options.maxOrigins) {
        // A register flood past the cap evicts the stalest origins, as the memory balancer does.
        const popped = (await r.zpopmin(originsKey, count - this.options.maxOrigins)).filter((_, i) => i % 2 === 0);
        if (popped.length > 0) {
          const evict = r.pipeline().del(...popped.flatMap((id) => [this.#key('origin:', id), this.#key('load:', id)]));
          for (let m = 0; m < PROTOCOL_MASKS; m++) evict.zrem(this.#key('origins:m:', String(m)), ...popped);
          const res = await evict.exec();
          for (const [err] of res ?? []) if (err) throw err;
        }
      }
      return added === 1;
    });
  }

  async pick(streamUrl: string, opts: PickOptions = {}): Promise<PickResult> {
    const keys = [this.#key('stream:', streamUrl), this.#key('fail:', streamUrl), this.#key('origins'), this.#key('penalties')];
    const protocolBit = opts.protocol === undefined ? 0 : PROTOCOL_BITS[opts.protocol];
    return this.#run('pick', async (r) => {
      let expected = '';
      let replaced: string | undefined;
      let avoid = opts.avoid ?? [];
      for (let attempt = 0; attempt < PICK_CAS_ATTEMPTS; attempt++) {
        const now = this.options.now();
        const start = Math.floor(this.options.random() * PICK_START_RANGE);
        const res = (await this.#script(
          r, 'srspPick', ...keys,
          now, this.options.originTtlMs, this.options.streamTtlMs, this.prefix, protocolBit, expected, PICK_SAMPLE_SIZE, start, ...avoid,
        )) as Array<string | number>;
        if (res[0] === 'mapped') {
          const id = String(res[1]);
          const failedUntil = String(res[3]);
          const origin = this.#origin(id, String(res[2]));
          const verdict = mappingVerdict(origin, {
            now,
            originTtlMs: this.options.originTtlMs,
            protocol: opts.protocol,
            avoid: opts.avoid,
            failedForStream: failedUntil !== '' && Number(failedUntil) > now,
          });
          if (verdict === 'keep' && origin !== undefined) return { origin, fresh: false };
          if (verdict === 'no-protocol') throw new NoOriginError(noOriginMessage(streamUrl, opts.protocol));
          expected = id;
          replaced ??= id;
          continue;
        }
        if (res[0] !== 'choose') throw new NoOriginError(noOriginMessage(streamUrl, opts.protocol));
        if (opts.placeNew === false && replaced === undefined) throw new PlacementSettlingError(`${streamUrl}: placements settling after a store reset`);
        const chosen = place(this.#candidates(res), this.options.strategy, this.options.random)!;
        const dto: StreamMappingDto = { v: STREAM_MAPPING_VERSION, origin_id: chosen.id, placed_at: now };
        if (opts.protocol !== undefined) dto.protocol = opts.protocol;
        this.#pending.set(chosen.id, (this.#pending.get(chosen.id) ?? 0) + 1);
        let stored: [number, string?];
        try {
          stored = (await this.#script(
            r, 'srspPlace', keys[0]!, this.#key('placed:', chosen.id),
            expected, chosen.id, JSON.stringify(dto), this.options.streamTtlMs, now, this.prefix, streamUrl,
          )) as [number, string?];
        } finally {
          const n = (this.#pending.get(chosen.id) ?? 1) - 1;
          if (n > 0) this.#pending.set(chosen.id, n);
          else this.#pending.delete(chosen.id);
        }
        if (stored[0] === 1) {
          const origin = this.#origin(chosen.id, stored[1] ?? '');
          const verdict = mappingVerdict(origin, { now, originTtlMs: this.options.originTtlMs, protocol: opts.protocol, failedForStream: false });
          if (verdict === 'keep' && origin !== undefined) return replaced === undefined ? { origin, fresh: true } : { origin, fresh: true, replaced };
          // Stored, but its record does not decode or does not match the index (a corrupt value, or
          // two heartbeats with other endpoints in the same millisecond): replace it, avoiding it.
          expected = chosen.id;
          avoid = [...avoid, chosen.id];
          continue;
        }
        if (stored[0] === 2) {
          // The chosen origin's record vanished since the candidates were read: choose again.
          avoid = [...avoid, chosen.id];
          continue;
        }
        // Another replica changed the mapping first: loop to read and adopt its choice.
        expected = '';
      }
      throw new NoOriginError(`mapping of ${streamUrl} kept changing; gave up after ${PICK_CAS_ATTEMPTS} attempts`);
    });
  }

  /** The PICK script's flat candidate list (id, penalised, streams, load) with this replica's pending placements added. */
  #candidates(res: Array<string | number>): Candidate[] {
    const out: Candidate[] = [];
    for (let i = 1; i + 3 < res.length; i += 4) {
      const id = String(res[i]);
      const load = res[i + 3] === '' ? undefined : Number(res[i + 3]);
      out.push({
        id,
        penalised: Number(res[i + 1]) === 1,
        streams: Number(res[i + 2]) + (this.#pending.get(id) ?? 0),
        load: load !== undefined && Number.isFinite(load) ? load : undefined,
      });
    }
    return out;
  }

  /** The record for a raw JSON value just read, reusing the last parse of that exact value. */
  #origin(id: string, raw: string): OriginRecord | undefined {
    if (raw === '') return undefined;
    const hit = this.#parsed.get(id);
    if (hit !== undefined && hit.raw === raw) return hit.origin;
    const origin = parseOrigin(raw);
    if (this.#parsed.size >= PARSED_ORIGIN_CACHE_MAX) this.#parsed.delete(this.#parsed.keys().next().value!);
    this.#parsed.set(id, { raw, origin });
    return origin;
  }

  async #records(r: Redis, ids: string[]): Promise<OriginRecord[]> {
    const out: OriginRecord[] = [];
    for (let i = 0; i < ids.length; i += MGET_CHUNK) {
      const chunk = ids.slice(i, i + MGET_CHUNK);
      const raws = await r.mget(...chunk.map((id) => this.#key('origin:', id)));
      for (const raw of raws) {
        const o = parseOrigin(raw);
        if (o !== undefined) out.push(o);
      }
    }
    return out;
  }

  async reportFailure(originId: string, streamUrl: string): Promise<void> {
    const now = this.options.now();
    const penalty = this.options.failurePenaltyMs;
    await this.#run('reportFailure', (r) =>
      this.#script(
        r,
        'srspReportFailure',
        this.#key('stream:', streamUrl),
        this.#key('penalties'),
        this.#key('fail:', streamUrl),
        this.#key('placed:', originId),
        originId,
        now + penalty,
        penalty,
        now,
        this.options.maxOrigins,
        streamUrl,
      ),
    );
  }

  async sweepExpired(): Promise<OriginRecord[]> {
    const cutoff = this.options.now() - this.options.originTtlMs;
    return this.#run('sweepExpired', async (r) => {
      const expired: OriginRecord[] = [];
      for (;;) {
        const out = (await this.#script(r, 'srspSweepOrigins', this.#key('origins'), cutoff, SWEEP_BATCH, this.#key('origin:'), this.#key('origins:m:'))) as string[];
        for (let i = 0; i + 2 < out.length; i += 3) {
          const id = out[i]!;
          // The record normally outlives the window (ORIGIN_RECORD_TTL_FACTOR); if Redis dropped it, still name the id.
          expired.push(
            parseOrigin(out[i + 1]) ?? { v: 0, id, ip: '', server: '', service: '', pid: '', rtmp: [], http: [], api: [], srt: [], rtc: [], updated_at: Number(out[i + 2]) },
          );
        }
        if (out.length < SWEEP_BATCH * 3) return expired;
      }
    });
  }

  async loadOrStoreHls(candidate: HlsSession): Promise<HlsSession> {
    return this.#run('loadOrStoreHls', async (r) => {
      const raw = (await this.#script(
        r,
        'srspHlsLoadOrStore',
        this.#key('hls:', candidate.stream_url),
        this.#key('spbhid:', candidate.spbhid),
        JSON.stringify(candidate),
        this.options.hlsTtlMs,
        this.#key('spbhid:'),
      )) as string;
      return parseHls(raw) ?? candidate;
    });
  }

  async loadHlsBySpbhid(spbhid: string): Promise<HlsSession | undefined> {
    return this.#run('loadHlsBySpbhid', async (r) =>
      parseHls((await this.#script(r, 'srspHlsLoadById', this.#key('spbhid:', spbhid), this.options.hlsTtlMs, this.#key('hls:'))) as string | null),
    );
  }

  async storeRtc(session: RtcSession): Promise<void> {
    await this.#run('storeRtc', (r) => r.set(this.#key('rtc:', session.ufrag), JSON.stringify(session), 'PX', this.options.rtcTtlMs));
  }

  async loadRtcByUfrag(ufrag: string): Promise<RtcSession | undefined> {
    return this.#run('loadRtcByUfrag', async (r) => parseRtc(await r.getex(this.#key('rtc:', ufrag), 'PX', this.options.rtcTtlMs)));
  }

  async listOrigins(): Promise<OriginStatus[]> {
    const now = this.options.now();
    return this.#run('listOrigins', async (r) => {
      const ids = await r.zrange(this.#key('origins'), 0, this.options.maxOrigins - 1);
      const pens = await r.zrangebyscore(this.#key('penalties'), `(${now}`, '+inf', 'WITHSCORES');
      const penalties = new Map<string, number>();
      for (let i = 0; i + 1 < pens.length; i += 2) penalties.set(pens[i]!, Number(pens[i + 1]));
      const records = await this.#records(r, ids);
      // `placed:<id>` scores are mapping expiries: the live ones are the origin's stream count.
      const countOps = r.pipeline();
      for (const o of records) countOps.zcount(this.#key('placed:', o.id), `(${now}`, '+inf');
      const counts = records.length === 0 ? [] : ((await countOps.exec()) ?? []);
      return records.map((origin, i) => {
        const [err, n] = counts[i] ?? [null, 0];
        if (err) throw err;
        return { origin, alive: isAlive(origin, now, this.options.originTtlMs), penalized_until: penalties.get(origin.id) ?? 0, streams: Number(n) };
      });
    });
  }

  async listStreams(limit = DEFAULT_LIST_STREAMS_LIMIT): Promise<StreamMapping[]> {
    if (limit <= 0) return [];
    const head = this.#key('stream:');
    return this.#run('listStreams', async (r) => {
      const keys: string[] = [];
      let cursor = '0';
      for (let round = 0; round < SCAN_MAX_ROUNDS && keys.length < limit; round++) {
        const [next, batch] = await r.scan(cursor, 'MATCH', `${escapeGlob(head)}*`, 'COUNT', SCAN_COUNT);
        keys.push(...batch);
        cursor = next;
        if (cursor === '0') break;
      }
      const picked = keys.slice(0, limit);
      const out: StreamMapping[] = [];
      for (let i = 0; i < picked.length; i += MGET_CHUNK) {
        const chunk = picked.slice(i, i + MGET_CHUNK);
        const raws = await r.mget(...chunk);
        raws.forEach((raw, j) => {
          const m = parseMapping(raw);
          if (m !== undefined) out.push(mappingOf(chunk[j]!.slice(head.length), m));
        });
      }
      return out;
    });
  }

  /**
   * A page in stream URL order. The candidates' names are the query's stream, or come from the
   * origin's `placed:` ZSET when the query names an origin, else from a SCAN of `stream:` keys (MATCH narrows it to the vhost
   * and app); only the page's mappings are then read. A SCAN of every key is O(streams) per page:
   * fine for an operator's view of a cluster's streams (bounded by maxStreams), never a hot path.
   */
  async listStreamPage(query: StreamQuery): Promise<StreamPage> {
    const head = this.#key('stream:');
    const now = this.options.now();
    return this.#run('listStreamPage', async (r) => {
      const names: string[] = [];
      if (query.stream_url !== undefined) {
        names.push(query.stream_url);
      } else if (query.origin_id !== undefined) {
        names.push(...(await r.zrangebyscore(this.#key('placed:', query.origin_id), `(${now}`, '+inf')));
      } else {
        const glob = `${escapeGlob(head)}${query.vhost === undefined ? '*' : `${escapeGlob(query.vhost)}/`}${query.app === undefined ? '*' : `${query.vhost === undefined ? '*/' : ''}${escapeGlob(query.app)}/*`}`;
        let cursor = '0';
        do {
          const [next, batch] = await r.scan(cursor, 'MATCH', glob, 'COUNT', SCAN_COUNT);
          for (const key of batch) names.push(key.slice(head.length));
          cursor = next;
        } while (cursor !== '0' && names.length <= this.options.maxStreams);
      }
      // SCAN may return a key twice; pageOf needs each URL once.
      const page = pageOf([...new Set(names)].map((stream_url) => ({ stream_url, origin_id: '' })), query);
      const streams: StreamMapping[] = [];
      if (page.streams.length > 0) {
        const raws = await r.mget(...page.streams.map((m) => head + m.stream_url));
        raws.forEach((raw, i) => {
          const m = parseMapping(raw);
          // A mapping dropped since the names were read is left out, as is one moved to another origin.
          if (m !== undefined && (query.origin_id === undefined || m.origin_id === query.origin_id)) streams.push(mappingOf(page.streams[i]!.stream_url, m));
        });
      }
      return page.next === undefined ? { streams } : { streams, next: page.next };
    });
  }
}
