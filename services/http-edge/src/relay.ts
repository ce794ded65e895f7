import type { ServerResponse } from 'node:http';
import type { BodySink, OriginExchange } from './origin-client.ts';

export interface RelayLimits {
  /** Bytes queued for the client past which the origin is paused (the bounded window). */
  clientWindowBytes: number;
  /** Bytes queued for the client past which it is dropped, paused origin or not. */
  maxClientBufferBytes: number;
  /** A client that leaves the origin paused this long is dropped. */
  slowClientTimeoutMs: number;
}

/** How a relay ended: `end` (origin finished), `client-gone`, `origin-error`, `slow-client`, or the closer's reason. */
export interface RelayEnd {
  reason: string;
  detail?: string;
  bytes: number;
}

/**
 * Copies an origin response body to a client with backpressure: when the client's queue passes
 * the window the origin is paused (so memory per client stays bounded by the window plus one
 * chunk) and resumed on `drain`; a client that stays stalled, or whose queue passes the hard
 * cap, is dropped. Closed exactly once; `onClose` reports why.
 */
export class BodyRelay implements BodySink {
  #closed = false;
  #paused = false;
  #stallTimer: NodeJS.Timeout | undefined;
  #bytes = 0;

  constructor(
    private readonly origin: OriginExchange,
    private readonly res: ServerResponse,
    private readonly limits: RelayLimits,
    private readonly onChunk: (bytes: number) => void,
    private readonly onClose: (end: RelayEnd) => void,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  /** Body bytes relayed so far (the stall check reads it; nothing runs per chunk for it). */
  get bytes(): number {
    return this.#bytes;
  }

  /** True while the origin is paused for this relay's slow client. */
  get paused(): boolean {
    return this.#paused;
  }

  start(): void {
    this.res.on('drain', this.#onDrain);
    this.res.once('close', this.#onClientClose);
    if (this.res.destroyed) this.#finish('client-gone', undefined, false);
    else this.origin.attach(this);
  }

  /**
   * Ends the relay from outside (edge shutdown, at the drain deadline): the live body ends the way
   * it does when the publisher stops (a terminated response, so players see a clean end of
   * stream, not a reset), and the origin request is dropped.
   */
  close(reason: string): void {
    if (this.#closed) return;
    this.#finish(reason, undefined, true);
    this.origin.abort(new Error(`relay closed: ${reason}`));
  }

  onData(chunk: Buffer): boolean {
    if (this.#closed) return false;
    this.#bytes += chunk.length;
    this.onChunk(chunk.length);
    const ok = this.res.write(chunk);
    const queued = this.res.writableLength;
    if (queued > this.limits.maxClientBufferBytes) {
      this.#finish('slow-client', `${queued} bytes queued for the client (limit ${this.limits.maxClientBufferBytes})`, false);
      return false;
    }
    // Pause only after a write returned false: that guarantees a later 'drain' to resume on.
    if (!ok && queued >= this.limits.clientWindowBytes) {
      this.#paused = true;
      this.#stallTimer = setTimeout(() => {
        this.#finish('slow-client', `client did not drain ${queued} bytes within ${this.limits.slowClientTimeoutMs} ms`, false);
      }, this.limits.slowClientTimeoutMs);
      return false;
    }
    return true;
  }

  onEnd(): void {
    this.#finish('end', undefined, true);
  }

  onError(err: Error): void {
    this.#finish('origin-error', err.message, false);
  }

  #onDrain = (): void => {
    if (!this.#paused || this.#closed) return;
    this.#paused = false;
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    this.origin.resume();
  };

  #onClientClose = (): void => {
    if (!this.res.writableFinished) this.#finish('client-gone', undefined, false);
  };

  #finish(reason: string, detail: string | undefined, graceful: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#stallTimer);
    this.res.off('drain', this.#onDrain);
    this.res.off('close', this.#onClientClose);
    if (graceful) {
      this.res.end();
    } else {
      this.origin.abort(new Error(`relay closed: ${reason}`));
      // A body cut short must not look complete to the client: no terminating chunk, reset.
      if (!this.res.destroyed) this.res.destroy();
    }
    this.onClose(detail === undefined ? { reason, bytes: this.#bytes } : { reason, detail, bytes: this.#bytes });
  }
}
