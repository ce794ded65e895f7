import type { EndpointKind, OriginRecord } from './origin.ts';
import { DEFAULT_PLACEMENT_STRATEGY, type PlacementStrategy } from './placement.ts';

/** HLS playback session: segment requests carry `spbhid` and are routed by `stream_url`. */
export interface HlsSession {
  v: number;
  spbhid: string;
  stream_url: string;
  full_url: string;
}

/** WebRTC session: the STUN USERNAME `<answer ufrag>:<offer ufrag>` → the origin's RTC address. */
export interface RtcSession {
  v: number;
  /** `<answer ufrag>:<offer ufrag>` */
  ufrag: string;
  stream_url: string;
  origin_id: string;
  /** The origin's WebRTC UDP address, resolved at signalling time. */
  rtc_host: string;
  rtc_port: number;
}

export const SESSION_DTO_VERSION = 1;

export interface PickOptions {
  /** Only origins exposing this service are candidates for a first pick. */
  protocol?: EndpointKind;
  /** Origin ids the caller just failed to reach: not chosen again, and a mapping to them is replaced. */
  avoid?: readonly string[];
  /**
   * False while placements are settling after a store reset: a live mapping is answered as ever,
   * but a stream without one gets PlacementSettlingError instead of a new placement (its
   * publisher's edge is about to re-assert it). Default true.
   */
  placeNew?: boolean;
}

export interface PickResult {
  origin: OriginRecord;
  /** True when this call created the stream's mapping (first pick or failover). */
  fresh: boolean;
  /** When `fresh` replaced an earlier mapping, the origin it replaced. */
  replaced?: string;
}

export interface OriginStatus {
  origin: OriginRecord;
  alive: boolean;
  /** ms epoch until which new picks avoid this origin after reported failures; 0 if none. */
  penalized_until: number;
  /** Live stream mappings placed on this origin (the `least-streams` count). */
  streams: number;
}

export interface StreamMapping {
  stream_url: string;
  origin_id: string;
  /** When this mapping was created (first pick or failover), ms epoch; absent in records of older writers. */
  placed_at?: number;
  /** The protocol of the client whose pick placed the stream (usually its publisher). */
  protocol?: EndpointKind;
}

/** One page of stream mappings, in stream URL order; see stream-page.ts. */
export interface StreamQuery {
  /** At most this many mappings (1..MAX_STREAM_PAGE). */
  limit: number;
  /** Only mappings after this stream URL (the `next` of the previous page). */
  after?: string;
  /** Only streams placed on this origin. */
  origin_id?: string;
  /** Only streams of this vhost and/or app (the first two segments of the stream URL). */
  vhost?: string;
  app?: string;
  /** Only this stream (a lookup by key). */
  stream_url?: string;
}

export interface StreamPage {
  streams: StreamMapping[];
  /** Pass as `after` for the next page; absent on the last page. */
  next?: string;
}

/**
 * A publisher's edge claims its stream's placement (placement leases): the edge holds a live
 * publisher session to `origin_id`, so that is where the stream is, whatever the store says.
 */
export interface PlacementClaim {
  stream_url: string;
  origin_id: string;
  /** The publisher's protocol, recorded when the claim writes the mapping. */
  protocol?: EndpointKind;
}

/**
 * What one claim did:
 * - `written`: the stream had no mapping (the store lost its state, or the mapping expired): stored;
 * - `refreshed`: already mapped to that origin: its TTL refreshed;
 * - `conflict`: mapped to another origin (`replaced`): overwritten, the publisher's origin wins;
 * - `unknown-origin`: the store has no alive record of the origin: nothing written (the edge
 *   claims again on its next renewal, by when the origin's heartbeat or the registry re-wrote it).
 */
export type PlacementOutcome = 'written' | 'refreshed' | 'conflict' | 'unknown-origin';

export interface PlacementAnswer {
  outcome: PlacementOutcome;
  /** For `conflict`: the origin the stream was mapped to before. */
  replaced?: string;
}

/**
 * Claims in one assertPlacement call. One Redis script runs a batch atomically, so the batch
 * bounds how long Redis is blocked (~100 µs); and 100 claims of the longest accepted URL and
 * origin id (4 KiB + 800 B) stay under NATS's 1 MiB payload limit.
 */
export const MAX_PLACEMENT_BATCH = 100;

/**
 * The balancer: registry of origins and sticky stream → origin placement, plus the HLS and
 * WebRTC session stores. The Go proxy's LoadBalancer interface, with failover added: a mapping
 * whose origin is no longer alive (or was reported failed) is replaced by a fresh pick.
 */
export interface Balancer {
  readonly kind: 'memory' | 'redis';
  init(): Promise<void>;
  close(): Promise<void>;
  /** Throws when the state store is unreachable (readiness). */
  ping(): Promise<void>;

  /** Register or refresh an origin (heartbeat). Returns true when the origin was not known. */
  update(origin: OriginRecord): Promise<boolean>;
  /** Sticky pick for a stream URL. Throws NoOriginError when no alive origin qualifies. */
  pick(streamUrl: string, opts?: PickOptions): Promise<PickResult>;
  /** An edge could not reach `originId` for `streamUrl`: drop that mapping and penalise the origin. */
  reportFailure(originId: string, streamUrl: string): Promise<void>;
  /** Removes origins whose heartbeat is older than the TTL and returns them (origin expired events). */
  sweepExpired(): Promise<OriginRecord[]>;
  /**
   * Placement leases: each claim, atomically per stream, writes an absent mapping, refreshes one
   * to the same origin, or overwrites one to another origin (compare-and-set: the claim wins);
   * answers in claim order. More than MAX_PLACEMENT_BATCH claims: PlacementBatchError, nothing written.
   */
  assertPlacement(claims: readonly PlacementClaim[]): Promise<PlacementAnswer[]>;
  /**
   * True when the store lost its state (restarted empty, flushed) since init or the last call that
   * returned true: the caller re-writes what it knows. Each caller sees a reset once. Memory: never.
   */
  detectReset(): Promise<boolean>;

  /**
   * Calls `listener` each time the store connection comes back after a loss (the moment a reset
   * may have happened), so the owner checks detectReset at once instead of at its next sweep.
   * Memory: never.
   */
  onReconnect(listener: () => void): void;

  /** Returns the stream's HLS session, storing `candidate` when there is none; refreshes its TTL. */
  loadOrStoreHls(candidate: HlsSession): Promise<HlsSession>;
  loadHlsBySpbhid(spbhid: string): Promise<HlsSession | undefined>;

  storeRtc(session: RtcSession): Promise<void>;
  /** Looks up by the full STUN username; refreshes the TTL. */
  loadRtcByUfrag(ufrag: string): Promise<RtcSession | undefined>;

  listOrigins(): Promise<OriginStatus[]>;
  /** At most `limit` mappings. */
  listStreams(limit?: number): Promise<StreamMapping[]>;
  /** One page of mappings in stream URL order, filtered (cluster API). */
  listStreamPage(query: StreamQuery): Promise<StreamPage>;
}

/** Lifetimes and caps, injected so tests can shrink them. Each has its reason next to the default. */
export interface BalancerOptions {
  /** An origin is alive this long after its last heartbeat (`PROXY_ORIGIN_SERVER_TTL`). */
  originTtlMs: number;
  /** A stream → origin mapping lives this long after its last use; refreshed on every pick. */
  streamTtlMs: number;
  /** HLS sessions live this long after the last playlist or segment request. */
  hlsTtlMs: number;
  /** WebRTC sessions live this long after signalling or the last lookup. */
  rtcTtlMs: number;
  /** New picks avoid an origin this long after a reported connect failure. */
  failurePenaltyMs: number;
  /** Memory balancer caps: past these the least recently used entries are evicted. */
  maxOrigins: number;
  maxStreams: number;
  maxHlsSessions: number;
  maxRtcSessions: number;
  /** Where new streams go (`PROXY_LOAD_BALANCE_STRATEGY`, see placement.ts). */
  strategy: PlacementStrategy;
  now: () => number;
  random: () => number;
}

export const DEFAULT_BALANCER_OPTIONS: BalancerOptions = {
  originTtlMs: 300_000,
  // An hour without any client asking for a stream: its publisher is long gone, re-pick freely.
  streamTtlMs: 3_600_000,
  // Upstream's 120 s: a player that has not fetched a playlist for 2 min has stopped.
  hlsTtlMs: 120_000,
  // Upstream's 120 s; refreshed on lookups so long calls served by new replicas still resolve.
  rtcTtlMs: 120_000,
  // Long enough for a restarting origin's heartbeat to expire or resume, short enough to retry it.
  failurePenaltyMs: 30_000,
  // Far above any real origin fleet; stops a register flood (random server/service/pid) growing memory.
  maxOrigins: 20_000,
  // Caps far above any real cluster's stream count; they only stop abuse (random stream names).
  maxStreams: 200_000,
  maxHlsSessions: 200_000,
  maxRtcSessions: 100_000,
  strategy: DEFAULT_PLACEMENT_STRATEGY,
  now: Date.now,
  random: Math.random,
};
