/**
 * What a relay's periodic check concluded about its origin.
 * - `not-reading`: writes to the origin waited for 'drain' for the whole bound. Conclusive: the
 *   origin (or its host) stopped reading; close the session and report the origin.
 * - `silent`: the origin sent media, then nothing for the bound. A hung origin or a stream that
 *   stopped (its publisher left, a paused play): the caller confirms with a probe of the origin.
 * - `probe`: the session only sends (a publisher), so nothing it sees tells a hung origin from a
 *   healthy one until kernel buffers fill (megabytes: minutes at a low bitrate); a probe is due.
 */
export type StallVerdict = 'not-reading' | 'silent' | 'probe';

/** Counters a relay's data path keeps; the check reads them, so no timer runs per chunk. */
export interface RelaySample {
  /** Bytes received from the origin so far (monotonic). */
  received: number;
  /**
   * 0 while writes to the origin flow; while they wait for 'drain', a number that changes each
   * time a new wait starts (so a wait that drained and started again is a new one).
   */
  backlog: number;
  /**
   * The relay itself holds the origin back (paused for a slow client): silence is ours, not the
   * origin's, and does not count (the slow-client bound deals with it).
   */
  held?: boolean;
}

export interface StallWatchOptions {
  /** PROXY_ORIGIN_STALL_TIMEOUT. */
  stallMs: number;
  /** The origin is expected to send (players): silence after media counts. */
  expectsMedia: boolean;
  /** The session only sends (publishers): a probe is due every `stallMs`. */
  probes: boolean;
  /**
   * The origin sends from the start whatever the stream does (SRT ACKs and keepalives): silence
   * counts from the watch's creation, not only after media was seen.
   */
  sendsAlways?: boolean;
  now?: () => number;
}

/**
 * Watches the origin side of one relay from samples its periodic check takes (pure; the clock is
 * injected). Silence only counts once the origin has sent something after the watch started, so
 * a play of a stream with no publisher yet is left to the idle timeout.
 */
export class StallWatch {
  private readonly stallMs: number;
  private readonly expectsMedia: boolean;
  private readonly probes: boolean;
  private readonly now: () => number;
  private received: number | undefined;
  private flowed = false;
  private lastReceivedAt: number;
  private backlog = 0;
  private backlogSince = 0;
  private lastProbeAt: number;

  constructor(opts: StallWatchOptions) {
    if (!(opts.stallMs > 0)) throw new RangeError(`stallMs must be positive, got ${opts.stallMs}`);
    this.stallMs = opts.stallMs;
    this.expectsMedia = opts.expectsMedia;
    this.probes = opts.probes;
    this.now = opts.now ?? (() => performance.now());
    this.lastReceivedAt = this.now();
    this.lastProbeAt = this.lastReceivedAt;
    this.flowed = opts.sendsAlways === true;
  }

  check(sample: RelaySample): StallVerdict | undefined {
    const now = this.now();
    if (sample.backlog === 0) {
      this.backlog = 0;
    } else if (sample.backlog !== this.backlog) {
      this.backlog = sample.backlog;
      this.backlogSince = now;
    } else if (now - this.backlogSince >= this.stallMs) {
      return 'not-reading';
    }
    if (this.received === undefined) {
      this.received = sample.received;
    } else if (sample.held === true) {
      this.received = sample.received;
      this.lastReceivedAt = now;
    } else if (sample.received !== this.received) {
      this.received = sample.received;
      this.lastReceivedAt = now;
      this.flowed = true;
    } else if (this.expectsMedia && this.flowed && now - this.lastReceivedAt >= this.stallMs) {
      // Re-armed: a probe that finds the origin alive is not repeated before another full bound.
      this.lastReceivedAt = now;
      return 'silent';
    }
    if (this.probes && now - this.lastProbeAt >= this.stallMs) {
      this.lastProbeAt = now;
      return 'probe';
    }
    return undefined;
  }

  /**
   * How long the origin has been silent, as the checks saw it (0 before media flowed, or when
   * `received` moved since the last check): for judging a client that gave up between checks.
   */
  silentMs(received: number): number {
    if (!this.flowed || received !== this.received) return 0;
    return this.now() - this.lastReceivedAt;
  }
}

/** A relayed session closed because its origin hung (the metric reason and log code of every edge). */
export const ORIGIN_STALLED = 'SRSP_ERR_ORIGIN_STALLED';
