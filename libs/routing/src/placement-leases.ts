import { MAX_PLACEMENT_BATCH, type EndpointKind, type PlacementClaim, type PlacementOutcome } from '@srs-proxy/balancer';
import type { RegistryClient } from '@srs-proxy/bus';
import { Counter, errorCode, errorMessage, metric, RateLimitedLog, type Logger, type Registry } from '@srs-proxy/runtime';

/**
 * Placement leases: the edge that holds a live publisher session owns that stream's placement.
 * Every `intervalMs` (PROXY_PLACEMENT_LEASE_INTERVAL) it claims every live publisher's stream →
 * origin with the registry, in batched requests of at most MAX_PLACEMENT_BATCH claims. The
 * registry writes a mapping its store lost (Redis restarted empty, a registry restarted with the
 * memory balancer), refreshes one that is there, and overwrites one naming another origin (a
 * random re-pick after state loss): the publisher's origin wins and the registry announces it, so
 * every cache drops the old answer. A claim on an origin the store does not know yet writes
 * nothing and is simply made again next time. A failed round (control plane down) is logged,
 * rate-limited, and retried on the next tick.
 */

/**
 * A control plane that stays down fails every renewal: one warning per this interval says so
 * (the srsp_placement_lease_claims_total `failed` count shows every one).
 */
export const LEASE_FAILURE_LOG_INTERVAL_MS = 30_000;

/** A claim held by one session; `release()` is idempotent. */
export interface PlacementLease {
  release(): void;
}

/** Timer functions, injected so tests drive the renewals with a fake clock. */
export interface LeaseTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_TIMERS: LeaseTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Renewals never keep a process alive on their own.
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface PlacementLeasesOptions {
  registry: Pick<RegistryClient, 'assertPlacements'>;
  /** The edge, as a metric label and in the registry's conflict logs (`rtmp-edge`…). */
  edge: string;
  logger: Logger;
  /** PROXY_PLACEMENT_LEASE_INTERVAL */
  intervalMs: number;
  metrics?: Registry;
  timers?: LeaseTimers;
  now?: () => number;
}

/** What a renewal round ended with, per claim (`failed`: the request did not get an answer). */
export type LeaseRenewal = PlacementOutcome | 'failed';

interface Held {
  claim: PlacementClaim;
  /** A conflict on this lease was logged (once per lease). */
  conflictLogged: boolean;
}

function leaseMetrics(registry: Registry) {
  return metric(registry, 'srsp_placement_lease_claims_total', () => new Counter({
    name: 'srsp_placement_lease_claims_total',
    help: 'Placement claims an edge made for its live publishers, by the registry\'s answer (written, refreshed, conflict, unknown_origin) or failed (no answer: retried next interval).',
    labelNames: ['edge', 'outcome'],
    registers: [registry],
  }));
}

export class PlacementLeases {
  readonly intervalMs: number;
  /** Claims by outcome since start (tests, debugging). */
  readonly counts: Record<LeaseRenewal, number> = { written: 0, refreshed: 0, conflict: 0, 'unknown-origin': 0, failed: 0 };
  readonly #opts: PlacementLeasesOptions;
  readonly #timers: LeaseTimers;
  readonly #held = new Map<number, Held>();
  readonly #failLog: RateLimitedLog;
  readonly #counter: ReturnType<typeof leaseMetrics> | undefined;
  #nextId = 0;
  #timer: unknown;
  #renewing: Promise<void> | undefined;
  #closed = false;

  constructor(opts: PlacementLeasesOptions) {
    if (!(opts.intervalMs > 0)) throw new RangeError(`lease interval must be positive, got ${opts.intervalMs}`);
    this.#opts = opts;
    this.intervalMs = opts.intervalMs;
    this.#timers = opts.timers ?? REAL_TIMERS;
    this.#failLog = new RateLimitedLog(opts.logger, 1, LEASE_FAILURE_LOG_INTERVAL_MS, opts.now);
    this.#counter = opts.metrics ? leaseMetrics(opts.metrics) : undefined;
  }

  /** Live leases (one per publisher session). */
  get size(): number {
    return this.#held.size;
  }

  /** True while a renewal is scheduled. */
  get scheduled(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * A publisher session's origin link is up: claim `streamUrl` → `originId` until released. The
   * session's own pick placed the mapping, so the first claim goes out one interval later.
   */
  add(streamUrl: string, originId: string, protocol?: EndpointKind): PlacementLease {
    if (this.#closed) return { release() {} };
    const id = ++this.#nextId;
    const claim: PlacementClaim = { stream_url: streamUrl, origin_id: originId };
    if (protocol !== undefined) claim.protocol = protocol;
    this.#held.set(id, { claim, conflictLogged: false });
    this.#schedule();
    return {
      release: () => {
        if (!this.#held.delete(id)) return;
        if (this.#held.size === 0) this.#unschedule();
      },
    };
  }

  /**
   * One renewal round now: every live lease's stream claimed once (the newest lease of a stream
   * wins), in batches. Never throws; a failed batch is counted and retried on the next round.
   */
  renew(): Promise<void> {
    this.#renewing ??= this.#renewOnce().finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  async #renewOnce(): Promise<void> {
    const byStream = new Map<string, Held>();
    for (const held of this.#held.values()) {
      byStream.delete(held.claim.stream_url);
      byStream.set(held.claim.stream_url, held);
    }
    const all = [...byStream.values()];
    for (let i = 0; i < all.length && !this.#closed; i += MAX_PLACEMENT_BATCH) {
      const batch = all.slice(i, i + MAX_PLACEMENT_BATCH);
      let answers;
      try {
        answers = await this.#opts.registry.assertPlacements(batch.map((h) => h.claim), this.#opts.edge);
      } catch (err) {
        this.#count('failed', all.length - i);
        this.#failLog.warn(
          { edge: this.#opts.edge, code: errorCode(err), err: errorMessage(err), streams: all.length },
          `renewing placement leases failed (retried every ${this.intervalMs} ms): ${errorMessage(err)}`,
        );
        return;
      }
      answers.forEach((a, k) => {
        const held = batch[k]!;
        this.#count(a.outcome, 1);
        if (a.outcome === 'conflict' && !held.conflictLogged) {
          held.conflictLogged = true;
          this.#opts.logger.warn(
            { stream: held.claim.stream_url, origin: held.claim.origin_id, replaced: a.replaced },
            `placement conflict: ${held.claim.stream_url} was mapped to ${a.replaced ?? 'another origin'}; re-asserted on the publisher's origin ${held.claim.origin_id}`,
          );
        } else if (a.outcome === 'written') {
          this.#opts.logger.info({ stream: held.claim.stream_url, origin: held.claim.origin_id }, 'placement re-asserted: the registry had no mapping of this live stream');
        }
      });
    }
  }

  #count(outcome: LeaseRenewal, n: number): void {
    this.counts[outcome] += n;
    this.#counter?.inc({ edge: this.#opts.edge, outcome: outcome === 'unknown-origin' ? 'unknown_origin' : outcome }, n);
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed || this.#held.size === 0) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      void this.renew().finally(() => this.#schedule());
    }, this.intervalMs);
  }

  #unschedule(): void {
    if (this.#timer === undefined) return;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Idempotent: stops renewing; held leases are dropped (their sessions are closing too). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unschedule();
    this.#held.clear();
  }
}
