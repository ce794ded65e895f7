import type { EndpointKind, OriginRecord } from './origin.ts';

/**
 * Placement of a stream that has no valid mapping: one pure function of (candidates, strategy,
 * random source), used by every balancer. The balancer gathers the candidates (alive, exposing the
 * protocol, not avoided) with their stream counts and loads; this file decides. Sticky mappings
 * never come here: a mapped stream moves only when its origin fails (mappingVerdict), never
 * because of load.
 *
 * - `random`: uniform among the candidates, like upstream.
 * - `least-streams`: the candidate with the fewest live stream mappings, ties drawn at random. The
 *   counts are exact and current (the memory balancer keeps them in process; the Redis balancer
 *   reads them in the pick's first round trip and updates them in the compare-and-set), so the
 *   view is at most one round trip old and the global minimum is safe to take.
 * - `least-load`: power of two choices over the load score from the origin's heartbeat
 *   `summaries` (loadScore), stream count as the tie-breaker. Loads are as old as the last
 *   heartbeat (SRS sends one every ~10 s), so every replica choosing the global minimum would send
 *   every new stream of that interval to the same origin; comparing two random candidates
 *   still avoids the loaded ones and spreads the rest (Mitzenmacher, "The Power of Two Choices").
 */
export const PLACEMENT_STRATEGIES = ['random', 'least-streams', 'least-load'] as const;
export type PlacementStrategy = (typeof PLACEMENT_STRATEGIES)[number];

/**
 * Default placement: even spread without any origin configuration (SRS sends `summaries` only
 * with `heartbeat { summaries on; }`), and exact counts, unlike the CPU samples of a heartbeat.
 */
export const DEFAULT_PLACEMENT_STRATEGY: PlacementStrategy = 'least-streams';

/** One origin a new stream may be placed on, as the balancer sees it at pick time. */
export interface Candidate {
  id: string;
  /** Live stream mappings on this origin (placed, neither expired nor moved away). */
  streams: number;
  /** loadScore of the origin's last heartbeat; undefined when it sent no usable summaries. */
  load?: number | undefined;
  /** Reported failed lately: placed on only when no healthy candidate exists. */
  penalised?: boolean | undefined;
}

/**
 * Loads closer than this are a tie, decided by stream counts: heartbeat CPU samples jitter by a
 * few points and are up to one interval old, so 0.31 vs 0.35 says nothing.
 */
export const LOAD_TIE_MARGIN = 0.1;
/** Load scores are clamped here: an origin at 4x saturation is as bad a choice as one at 400x, and garbage stays finite. */
export const MAX_LOAD = 4;

export function isAlive(origin: OriginRecord, now: number, originTtlMs: number): boolean {
  return now - origin.updated_at < originTtlMs;
}

/** Alive origins that expose the protocol and are not avoided: the candidates of a first pick. */
export function eligibleOrigins(
  origins: Iterable<OriginRecord>,
  ctx: { now: number; originTtlMs: number; protocol?: EndpointKind | undefined; avoid?: readonly string[] | undefined },
): OriginRecord[] {
  const out: OriginRecord[] = [];
  for (const o of origins) {
    if (!isAlive(o, ctx.now, ctx.originTtlMs)) continue;
    if (ctx.avoid !== undefined && ctx.avoid.includes(o.id)) continue;
    if (ctx.protocol !== undefined && o[ctx.protocol].length === 0) continue;
    out.push(o);
  }
  return out;
}

/** A finite, non-negative number at `obj[key]`, else undefined. */
function num(obj: unknown, key: string): number | undefined {
  if (typeof obj !== 'object' || obj === null) return undefined;
  const v = (obj as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

/**
 * Load score of an origin from its heartbeat `summaries` (SRS `srs_api_dump_summaries`:
 * `{data: {self: {cpu_percent}, system: {cpu_percent, load_1m, cpus, cpus_online}}}`; SRS reports
 * CPU as ratios, 0.35 meaning 35 %). The score is the most saturated of: the host's CPU, the SRS
 * process's CPU (a share of one core: SRS serves media on one thread), and the 1-minute load
 * average per online CPU. 0 is idle, 1 saturated, clamped to MAX_LOAD. Memory is left out: hosts
 * report cache-inflated RAM use that says little about room for one more stream.
 * Undefined when summaries are missing or carry no usable number; never throws.
 */
export function loadScore(summaries: unknown): number | undefined {
  try {
    const data = field(summaries, 'data') ?? summaries;
    const self = field(data, 'self');
    const system = field(data, 'system');
    const parts: number[] = [];
    const sysCpu = num(system, 'cpu_percent');
    if (sysCpu !== undefined) parts.push(sysCpu);
    const selfCpu = num(self, 'cpu_percent');
    if (selfCpu !== undefined) parts.push(selfCpu);
    const load1m = num(system, 'load_1m');
    if (load1m !== undefined) {
      const cpus = num(system, 'cpus_online') || num(system, 'cpus') || 1;
      parts.push(load1m / Math.max(1, cpus));
    }
    if (parts.length === 0) return undefined;
    return Math.min(MAX_LOAD, Math.max(...parts));
  } catch {
    // A hostile object (getters, proxies) is no load signal, not a failed pick.
    return undefined;
  }
}

/** A uniform index in [0, n), safe when random() returns 1 or garbage. */
function index(random: () => number, n: number): number {
  const r = random();
  const i = Math.floor((Number.isFinite(r) ? r : 0) * n);
  return Math.min(n - 1, Math.max(0, i));
}

/** Fewest streams; ties uniformly at random (reservoir sampling, one pass). */
function leastStreams<C extends Candidate>(pool: readonly C[], random: () => number): C {
  let best = pool[0]!;
  let ties = 1;
  for (let i = 1; i < pool.length; i++) {
    const c = pool[i]!;
    if (c.streams < best.streams) {
      best = c;
      ties = 1;
    } else if (c.streams === best.streams && index(random, ++ties) === 0) {
      best = c;
    }
  }
  return best;
}

/** Negative when `a` is the better place: lower load by a clear margin, else fewer streams. */
function compareLoad(a: Candidate, b: Candidate): number {
  if (a.load !== undefined && b.load !== undefined && Math.abs(a.load - b.load) >= LOAD_TIE_MARGIN) return a.load - b.load;
  return a.streams - b.streams;
}

/** Power of two choices: two distinct random candidates, the better one wins, a tie is a coin flip. */
function twoChoices<C extends Candidate>(pool: readonly C[], random: () => number): C {
  if (pool.length === 1) return pool[0]!;
  const i = index(random, pool.length);
  let j = index(random, pool.length - 1);
  if (j >= i) j++;
  const a = pool[i]!;
  const b = pool[j]!;
  const cmp = compareLoad(a, b);
  if (cmp !== 0) return cmp < 0 ? a : b;
  return index(random, 2) === 0 ? a : b;
}

/**
 * Chooses where a new stream goes, or undefined when there is no candidate. Penalised candidates
 * are considered only when every candidate is penalised.
 */
export function place<C extends Candidate>(candidates: readonly C[], strategy: PlacementStrategy, random: () => number): C | undefined {
  if (candidates.length === 0) return undefined;
  const healthy = candidates.filter((c) => c.penalised !== true);
  const pool = healthy.length > 0 ? healthy : candidates;
  switch (strategy) {
    case 'random':
      return pool[index(random, pool.length)];
    case 'least-load':
      return twoChoices(pool, random);
    case 'least-streams':
    default:
      return leastStreams(pool, random);
  }
}
