import type { Readable } from 'node:stream';
import type { ServerResponse } from 'node:http';

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
 * cap, is dropped. Closed exactly once; `onEnd` reports why.
 */
export class BodyRelay {
  #closed = false;
  #paused = false;
  #stallTimer: NodeJS.Timeout | undefined;
  #bytes = 0;

  constructor(
    private readonly body: Readable,
    private readonly res: ServerResponse,
    private readonly limits: RelayLimits,
    private readonly onChunk: (bytes: number) => void,
    private readonly onEnd: (end: RelayEnd) => void,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    this.body.on('data', this.#onData);
    this.body.once('end', this.#onOriginEnd);
    this.body.on('error', this.#onOriginError);
    this.res.on('drain', this.#onDrain);
    this.res.once('close', this.#onClientClose);
    if (this.res.destroyed) this.#finish('client-gone', undefined, false);
  }

  /** Ends the relay from outside (edge shutdown): the client connection is cut. */
  close(reason: string): void {
    this.#finish(reason, undefined, false);
  }

  #onData = (chunk: Buffer): void => {
    if (this.#closed) return;
    this.#bytes += chunk.length;
    this.onChunk(chunk.length);
    const ok = this.res.write(chunk);
    const queued = this.res.writableLength;
    if (queued > this.limits.maxClientBufferBytes) {
      this.#finish('slow-client', `${queued} bytes queued for the client (limit ${this.limits.maxClientBufferBytes})`, false);
      return;
    }
    // Pause only after a write returned false: that guarantees a later 'drain' to resume on.
    if (!ok && !this.#paused && queued >= this.limits.clientWindowBytes) {
      this.#paused = true;
      this.body.pause();
      this.#stallTimer = setTimeout(() => {
        this.#finish('slow-client', `client did not drain ${queued} bytes within ${this.limits.slowClientTimeoutMs} ms`, false);
      }, this.limits.slowClientTimeoutMs);
    }
  };

  #onDrain = (): void => {
    if (!this.#paused || this.#closed) return;
    this.#paused = false;
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    this.body.resume();
  };

  #onOriginEnd = (): void => this.#finish('end', undefined, true);

  #onOriginError = (err: Error): void => this.#finish('origin-error', err.message, false);

  #onClientClose = (): void => {
    if (!this.res.writableFinished) this.#finish('client-gone', undefined, false);
  };

  #finish(reason: string, detail: string | undefined, graceful: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#stallTimer);
    this.body.off('data', this.#onData);
    this.body.off('end', this.#onOriginEnd);
    this.res.off('drain', this.#onDrain);
    this.res.off('close', this.#onClientClose);
    // Keep an error listener: destroying an undici body may still emit its abort error.
    if (graceful) {
      this.res.end();
    } else {
      if (!this.body.destroyed) this.body.destroy();
      // A body cut short must not look complete to the client: no terminating chunk, reset.
      if (!this.res.destroyed) this.res.destroy();
    }
    this.onEnd(detail === undefined ? { reason, bytes: this.#bytes } : { reason, detail, bytes: this.#bytes });
  }
}
