import { formatHostPort, type Endpoint, type OriginRecord } from '@srs-proxy/balancer';
import { dialTcp, StallWatch, ORIGIN_STALLED, type OriginProber } from '@srs-proxy/routing';
import { errorMessage, type Logger } from '@srs-proxy/runtime';
import type { BodyRelay } from './relay.ts';

// Resolution of the live relays' stall check: one timer per edge, so a hung origin is seen within
// PROXY_ORIGIN_STALL_TIMEOUT + 1 s + one probe, at no cost per chunk.
export const STALL_CHECK_MS = 1_000;

export interface LiveStallChecksOptions {
  /** PROXY_ORIGIN_STALL_TIMEOUT. */
  stallMs: number;
  prober: OriginProber;
  /** Reports the origin failed for the stream (OriginRouter.reportFailure through EdgeRouting). */
  report: (streamUrl: string, originId: string, reason: string) => Promise<void>;
  log: Logger;
  now?: () => number;
  intervalMs?: number;
}

interface Watched {
  relay: BodyRelay;
  watch: StallWatch;
  streamUrl: string;
  origin: OriginRecord;
  endpoint: Endpoint;
  probing: boolean;
}

/**
 * Watches the http-edge's live FLV/TS relays for an origin that stopped sending: after media, no
 * byte for the bound (not while the relay itself holds the origin for a slow client), then an
 * origin that does not answer a probe either is reported and the client's response ended the way
 * a finished live stream ends, so the player reconnects and is placed elsewhere. An origin that
 * answers the probe is only quiet (its publisher left): the relay is left to the body-idle bound.
 */
export class LiveStallChecks {
  readonly #opts: LiveStallChecksOptions;
  readonly #watched = new Map<BodyRelay, Watched>();
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: LiveStallChecksOptions) {
    this.#opts = opts;
  }

  watch(relay: BodyRelay, streamUrl: string, origin: OriginRecord, endpoint: Endpoint): void {
    const watch = new StallWatch({ stallMs: this.#opts.stallMs, expectsMedia: true, probes: false, now: this.#opts.now });
    this.#watched.set(relay, { relay, watch, streamUrl, origin, endpoint, probing: false });
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.check(), this.#opts.intervalMs ?? STALL_CHECK_MS);
      this.#timer.unref();
    }
  }

  unwatch(relay: BodyRelay): void {
    this.#watched.delete(relay);
    if (this.#watched.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** One pass over the live relays (the interval's work; tests call it on a hand-moved clock). */
  check(): void {
    for (const w of this.#watched.values()) {
      if (w.relay.closed) continue;
      const verdict = w.watch.check({ received: w.relay.bytes, backlog: 0, held: w.relay.paused });
      if (verdict !== 'silent' || w.probing) continue;
      w.probing = true;
      void this.#confirm(w);
    }
  }

  async #confirm(w: Watched): Promise<void> {
    const r = await this.#opts.prober.check(w.origin.id, w.endpoint);
    w.probing = false;
    if (r.alive || w.relay.closed) return;
    const reason = `origin sent nothing for ${this.#opts.stallMs} ms: ${r.reason ?? 'no answer'}`;
    this.#opts.log.warn({ code: ORIGIN_STALLED, stream: w.streamUrl, origin: w.origin.id, reason }, 'HTTP origin hung');
    await this.#opts.report(w.streamUrl, w.origin.id, reason);
    w.relay.close(ORIGIN_STALLED);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#watched.clear();
  }
}

/**
 * Liveness probe of an HTTP origin (a ProbeFn): a fresh connection and `HEAD /`, answered by the
 * first byte of any response. A hung process's kernel accepts the connection; only the process answers.
 */
export async function probeHttpOrigin(endpoint: Endpoint, signal: AbortSignal, connectTimeoutMs: number): Promise<void> {
  const socket = await dialTcp(endpoint, connectTimeoutMs);
  const release = (): void => {
    socket.destroy();
  };
  if (signal.aborted) {
    release();
    return;
  }
  signal.addEventListener('abort', release, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('data', () => resolve());
      socket.once('error', (err) => reject(new Error(`probe: ${errorMessage(err)}`)));
      socket.once('close', () => reject(new Error('origin closed the probe without an answer')));
      socket.write(`HEAD / HTTP/1.1\r\nHost: ${formatHostPort(endpoint.host, endpoint.port)}\r\nConnection: close\r\n\r\n`);
    });
  } finally {
    signal.removeEventListener('abort', release);
    release();
  }
}
