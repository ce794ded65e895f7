import { Agent, type Dispatcher } from 'undici';
import { isOriginDown, OriginFailedError, OriginTimeoutError } from '@srs-proxy/routing';
import { errorCode, errorMessage } from '@srs-proxy/runtime';
import { DocumentTooLargeError } from './errors.ts';
import { headerValue, type HeaderList } from './headers.ts';

export interface OriginHttpClientOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** Receives an origin response body. */
export interface BodySink {
  /** Returns false to pause the origin until `OriginExchange.resume()`. */
  onData(chunk: Buffer): boolean;
  onEnd(): void;
  onError(err: Error): void;
}

/** Before headers: connect failures keep their system code (the router fails over); the rest is typed. */
function headError(err: Error): Error {
  if (isOriginDown(err)) return err;
  if (errorCode(err) === 'UND_ERR_HEADERS_TIMEOUT') return new OriginTimeoutError('origin sent no response headers in time', err);
  return new OriginFailedError(`origin request failed: ${err.message}`, err);
}

/** Header bytes as text, one char per byte, so they go back out unchanged. */
function latin1(b: Buffer | string): string {
  return typeof b === 'string' ? b : b.toString('latin1');
}

/**
 * One request to an origin, driven through undici's dispatcher API (no stream objects on the hot
 * path). `head` settles when the final response headers arrive; the body then flows to one sink,
 * with backpressure: the origin socket is paused whenever the sink says so, and while no sink is
 * attached yet. `abort` cancels it at any point and closes the origin connection.
 */
export class OriginExchange implements Dispatcher.DispatchHandlers {
  statusCode = 0;
  /** Response fields, names lower-case, values as sent (latin1, byte for byte). */
  headers: HeaderList = [];
  readonly head: Promise<this>;
  #resolveHead!: (ex: this) => void;
  #rejectHead!: (err: Error) => void;
  #headDone = false;
  #abortFn: ((err: Error) => void) | undefined;
  #abortedWith: Error | undefined;
  #resumeFn: (() => void) | undefined;
  #sink: BodySink | undefined;
  /** Body events that arrived before a sink was attached (HEAD and empty bodies end at once). */
  #early: Array<Buffer | 'end' | Error> = [];
  #finished = false;

  constructor() {
    this.head = new Promise<this>((resolve, reject) => {
      this.#resolveHead = resolve;
      this.#rejectHead = reject;
    });
    // A head nobody awaits (aborted before use) must not become an unhandled rejection.
    this.head.catch(() => {});
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** First value of a response field (lower-case name). */
  header(name: string): string | undefined {
    return headerValue(this.headers, name);
  }

  /** Starts the body flow into `sink`. */
  attach(sink: BodySink): void {
    this.#sink = sink;
    this.resume();
  }

  /** Continues a paused body: events held before the sink was ready first, then the socket. */
  resume(): void {
    const sink = this.#sink;
    if (!sink) return;
    while (this.#early.length > 0) {
      const ev = this.#early.shift()!;
      if (ev === 'end') return sink.onEnd();
      if (ev instanceof Error) return sink.onError(ev);
      if (!sink.onData(ev)) return;
    }
    if (!this.#finished) this.#resumeFn?.();
  }

  /** Cancels the request; the origin connection is closed. Idempotent. */
  abort(reason: Error): void {
    if (this.#finished || this.#abortedWith) return;
    this.#abortedWith = reason;
    this.#abortFn?.(reason);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abortFn = abort;
    if (this.#abortedWith) abort(this.#abortedWith);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null, resume: () => void): boolean {
    // Informational responses (100 Continue, 103 Early Hints) are not the answer.
    if (statusCode < 200) return true;
    this.statusCode = statusCode;
    this.#resumeFn = resume;
    const raw = rawHeaders ?? [];
    const headers: HeaderList = new Array(raw.length & ~1);
    for (let i = 0; i + 1 < raw.length; i += 2) {
      headers[i] = latin1(raw[i]!).toLowerCase();
      headers[i + 1] = latin1(raw[i + 1]!);
    }
    this.headers = headers;
    this.#headDone = true;
    this.#resolveHead(this);
    // Hold the body until a consumer attaches (it resumes us).
    return this.#sink !== undefined;
  }

  onData(chunk: Buffer): boolean {
    if (this.#sink && this.#early.length === 0) return this.#sink.onData(chunk);
    this.#early.push(chunk);
    return false;
  }

  onComplete(): void {
    this.#finished = true;
    if (this.#sink && this.#early.length === 0) this.#sink.onEnd();
    else this.#early.push('end');
  }

  onError(err: Error): void {
    this.#finished = true;
    if (!this.#headDone) {
      this.#headDone = true;
      this.#rejectHead(this.#abortedWith ?? headError(err));
      return;
    }
    if (this.#sink && this.#early.length === 0) this.#sink.onError(err);
    else this.#early.push(err);
  }
}

/**
 * HTTP client towards origins: one undici Agent (a keep-alive pool per origin) with bounded
 * connect, header and body-idle waits. Pipelining stays at undici's default of 1: a request
 * queued behind a live stream on the same connection would wait forever.
 */
export class OriginHttpClient {
  readonly #agent: Agent;

  constructor(opts: OriginHttpClientOptions) {
    this.#agent = new Agent({
      connect: { timeout: opts.connectTimeoutMs },
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyIdleTimeoutMs,
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      // Live streams hold a connection each; a per-origin cap would queue players behind them.
      connections: null,
    });
  }

  /** Starts a request to `origin` (`http://host:port`); await `head` for the response headers. */
  start(origin: string, req: { method: 'GET' | 'HEAD'; path: string; headers: HeaderList }): OriginExchange {
    const ex = new OriginExchange();
    try {
      this.#agent.dispatch({ origin, path: req.path, method: req.method, headers: req.headers }, ex);
    } catch (err) {
      ex.onError(err instanceof Error ? err : new Error(String(err)));
    }
    return ex;
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }
}

/** Reads a whole body up to `limit` bytes; past it the origin request is cut and DocumentTooLargeError thrown. */
export function collectBody(ex: OriginExchange, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    ex.attach({
      onData(chunk) {
        total += chunk.length;
        if (total > limit) {
          // Rejected first: aborting reports an error to onError below, synchronously.
          reject(new DocumentTooLargeError(limit));
          ex.abort(new DocumentTooLargeError(limit));
          return false;
        }
        chunks.push(chunk);
        return true;
      },
      onEnd: () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)),
      onError: (err) => reject(new OriginFailedError(`reading the origin document failed: ${errorMessage(err)}`, err)),
    });
  });
}

/** Reads a playlist/manifest whole (bounded); a compressed document is refused (it could not be rewritten). */
export async function readDocument(ex: OriginExchange, limit: number): Promise<string> {
  const encoding = ex.header('content-encoding');
  if (encoding !== undefined && encoding !== 'identity') {
    ex.abort(new Error('compressed document'));
    throw new OriginFailedError(`origin compressed the document (${encoding}) although asked for identity`);
  }
  return (await collectBody(ex, limit)).toString('utf8');
}
