import {
  connect, createInbox, headers as natsHeaders, ClosedConnectionError, DrainingConnectionError,
  type Msg, type MsgHdrs, type NatsConnection, type Subscription as NatsSubscription,
} from '@nats-io/transport-node';
import { errorMessage, withTimeout, type Logger } from '@srs-proxy/runtime';
import type { BusTransport, EventHandler, Headers, RequestHandler, Subscription } from './transport.ts';
import { BadMessageError, RegistryTimeoutError, RegistryUnavailableError } from './errors.ts';
import { errorEnvelope, okEnvelope, openEnvelope } from './envelope.ts';

/** First connect: fail start-up promptly (the orchestrator restarts us) rather than hang. */
export const NATS_CONNECT_TIMEOUT_MS = 5_000;
/**
 * Reconnect backoff: first retry quickly (a NATS pod restart takes ~1 s), then at most once a
 * second, so routing of new streams is back within ~1 s of NATS returning however long it was
 * away (a refused connect to an absent server costs next to nothing).
 */
export const NATS_RECONNECT_MIN_MS = 250;
export const NATS_RECONNECT_MAX_MS = 1_000;
/** Client pings: a silently dead connection is noticed after ~PING_INTERVAL × (MAX_PINGS_OUT + 1). */
export const NATS_PING_INTERVAL_MS = 10_000;
export const NATS_MAX_PINGS_OUT = 2;
/** Readiness probe round trip; a healthy local NATS answers in well under a millisecond. */
export const NATS_PING_TIMEOUT_MS = 2_000;
/** Drain on close: in-flight replies get this long to go out before the connection is dropped. */
export const NATS_DRAIN_TIMEOUT_MS = 2_000;
/** Status code NATS sends to a request's reply subject when no subscriber listens on the subject. */
const NO_RESPONDERS_STATUS = 503;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encode(data: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(data ?? null));
}

function decode(payload: Uint8Array): unknown {
  if (payload.length === 0) return undefined;
  return JSON.parse(decoder.decode(payload)) as unknown;
}

/** W3C trace context and any other string headers → NATS headers (keys lower-case, as W3C spells them). */
function toNatsHeaders(h: Headers | undefined): MsgHdrs | undefined {
  if (!h) return undefined;
  const entries = Object.entries(h).filter(([k, v]) => typeof v === 'string' && k.length > 0);
  if (entries.length === 0) return undefined;
  const out = natsHeaders();
  for (const [k, v] of entries) out.set(k.toLowerCase(), v);
  return out;
}

function fromNatsHeaders(h: MsgHdrs | undefined): Headers {
  const out: Headers = {};
  if (!h) return out;
  for (const [k, values] of h) {
    if (values.length > 0) out[k.toLowerCase()] = values[0]!;
  }
  return out;
}

/** Maps a publish failure to the bus's typed errors. */
function requestFailure(subject: string, err: unknown): Error {
  if (err instanceof ClosedConnectionError || err instanceof DrainingConnectionError) {
    return new RegistryUnavailableError(`bus unavailable for ${subject}: ${errorMessage(err)}`, err);
  }
  return new RegistryUnavailableError(`${subject} failed: ${errorMessage(err)}`, err);
}

/** A request waiting for its reply on the shared inbox. */
interface PendingRequest {
  subject: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Exponential reconnect delay between NATS_RECONNECT_MIN_MS and NATS_RECONNECT_MAX_MS, reset on success. */
class ReconnectBackoff {
  private attempt = 0;
  next(): number {
    const ms = Math.min(NATS_RECONNECT_MAX_MS, NATS_RECONNECT_MIN_MS * 2 ** Math.min(this.attempt, 8));
    this.attempt++;
    return ms;
  }
  reset(): void {
    this.attempt = 0;
  }
}

export interface NatsConnectOptions {
  /** One URL or several, comma separated (`PROXY_NATS_URL`). */
  servers: string;
  token?: string | undefined;
  /** Connection name shown by the NATS server (`srs-proxy-registry`, …). */
  name: string;
  logger: Logger;
}

/**
 * The cluster bus on NATS core (no JetStream): JSON payloads in the shared envelope, request/reply
 * with typed errors, queue groups for registry replicas, W3C trace context in message headers.
 * Reconnects forever with backoff; while disconnected requests fail fast with
 * RegistryUnavailableError (edges keep relaying what they already have) and subscriptions are
 * restored by the client on reconnect.
 */
export class NatsTransport implements BusTransport {
  readonly kind = 'nats' as const;
  private connected = true;
  private closed = false;
  private readonly subs = new Set<NatsSubscription>();
  /**
   * Requests share one wildcard subscription `<inbox>.*` and are told apart by the last token, as
   * nats.js's own request mux does, but without the two Error objects (async stack traces) and the
   * extra promise race nats.js creates per request: on an edge asking thousands of picks a second
   * those were a third of the bus's CPU.
   */
  private readonly inbox = `${createInbox()}.`;
  private inboxSub: NatsSubscription | undefined;
  private readonly pending = new Map<string, PendingRequest>();
  private nextToken = 0;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    private readonly backoff: ReconnectBackoff,
  ) {
    void this.watchStatus();
  }

  static async connect(opts: NatsConnectOptions): Promise<NatsTransport> {
    const backoff = new ReconnectBackoff();
    const nc = await connect({
      servers: opts.servers.split(',').map((s) => s.trim()).filter(Boolean),
      name: opts.name,
      ...(opts.token ? { token: opts.token } : {}),
      timeout: NATS_CONNECT_TIMEOUT_MS,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectDelayHandler: () => backoff.next(),
      pingInterval: NATS_PING_INTERVAL_MS,
      maxPingOut: NATS_MAX_PINGS_OUT,
    });
    const t = new NatsTransport(nc, opts.logger.child({ bus: 'nats' }), backoff);
    t.log.info({ server: nc.getServer(), name: opts.name }, 'connected to NATS');
    return t;
  }

  private async watchStatus(): Promise<void> {
    try {
      for await (const s of this.nc.status()) {
        switch (s.type) {
          case 'disconnect':
            this.connected = false;
            if (!this.closed) this.log.warn({ server: s.server }, 'NATS disconnected; reconnecting');
            // Their replies, if any, were lost with the connection: fail now rather than at the timeout.
            this.failPending((p) => new RegistryUnavailableError(`bus disconnected while asking ${p.subject}`));
            break;
          case 'reconnect':
            this.connected = true;
            this.backoff.reset();
            this.log.info({ server: s.server }, 'NATS reconnected');
            break;
          case 'error':
            this.log.warn({ err: s.error }, 'NATS error');
            break;
          case 'close':
            this.connected = false;
            break;
          default:
            break;
        }
      }
    } catch (err) {
      this.log.debug({ err }, 'NATS status stream ended');
    }
  }

  async request(subject: string, data: unknown, opts: { timeoutMs: number; headers?: Headers }): Promise<unknown> {
    if (this.closed || !this.connected || this.nc.isClosed()) throw new RegistryUnavailableError(`bus disconnected, cannot ask ${subject}`);
    const h = toNatsHeaders(opts.headers);
    const payload = encode(data);
    this.inboxSub ??= this.nc.subscribe(`${this.inbox}*`, { callback: (err, msg) => this.onReply(err, msg) });
    const token = (this.nextToken++).toString(36);
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(token)) reject(new RegistryTimeoutError(`${subject} timed out after ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
      this.pending.set(token, { subject, resolve, reject, timer });
      try {
        this.nc.publish(subject, payload, { reply: this.inbox + token, ...(h ? { headers: h } : {}) });
      } catch (err) {
        this.settle(token);
        reject(requestFailure(subject, err));
      }
    });
  }

  /** Removes a pending request and stops its timer; undefined when it already timed out or failed. */
  private settle(token: string): PendingRequest | undefined {
    const p = this.pending.get(token);
    if (p === undefined) return undefined;
    this.pending.delete(token);
    clearTimeout(p.timer);
    return p;
  }

  private onReply(err: Error | null, msg: Msg): void {
    if (err) {
      this.log.warn({ err }, 'NATS reply subscription error');
      this.failPending((p) => new RegistryUnavailableError(`reply subscription failed while asking ${p.subject}: ${errorMessage(err)}`, err));
      this.inboxSub = undefined;
      return;
    }
    // A late reply (after the timeout) finds nothing and is dropped.
    const p = this.settle(msg.subject.slice(this.inbox.length));
    if (p === undefined) return;
    if (msg.data.length === 0 && msg.headers?.code === NO_RESPONDERS_STATUS) {
      p.reject(new RegistryUnavailableError(`no responders for ${p.subject}`));
      return;
    }
    let env: unknown;
    try {
      env = decode(msg.data);
    } catch {
      p.reject(new BadMessageError(`malformed reply on ${p.subject}`));
      return;
    }
    try {
      p.resolve(openEnvelope(env));
    } catch (e) {
      p.reject(e as Error);
    }
  }

  private failPending(error: (p: PendingRequest) => Error): void {
    for (const token of [...this.pending.keys()]) {
      const p = this.settle(token);
      if (p) p.reject(error(p));
    }
  }

  serve(subject: string, handler: RequestHandler, opts: { queue?: string } = {}): Subscription {
    const sub = this.nc.subscribe(subject, {
      ...(opts.queue ? { queue: opts.queue } : {}),
      callback: (err, msg) => {
        if (err) {
          this.log.warn({ err, subject }, 'NATS subscription error');
          return;
        }
        void this.answer(subject, handler, msg);
      },
    });
    return this.track(sub);
  }

  /** Runs one request handler; every outcome becomes a reply envelope, nothing escapes. */
  private async answer(subject: string, handler: RequestHandler, msg: Msg): Promise<void> {
    let env;
    try {
      let data: unknown;
      try {
        data = decode(msg.data);
      } catch {
        throw new BadMessageError(`malformed JSON on ${subject}`);
      }
      env = okEnvelope(await handler(data, fromNatsHeaders(msg.headers)));
    } catch (err) {
      env = errorEnvelope(err);
    }
    if (!msg.reply) return;
    try {
      msg.respond(encode(env));
    } catch (err) {
      // E.g. a reply over the server's max payload, or the connection closed meanwhile.
      this.log.warn({ err, subject }, 'NATS reply failed');
      try {
        msg.respond(encode(errorEnvelope(err)));
      } catch {
        /* connection gone: the requester times out */
      }
    }
  }

  publish(subject: string, data: unknown, headers?: Headers): void {
    if (this.closed || this.nc.isClosed()) return;
    try {
      const h = toNatsHeaders(headers);
      this.nc.publish(subject, encode(data), h ? { headers: h } : undefined);
    } catch (err) {
      this.log.debug({ err, subject }, 'NATS publish failed');
    }
  }

  subscribe(subject: string, handler: EventHandler): Subscription {
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          this.log.warn({ err, subject }, 'NATS subscription error');
          return;
        }
        try {
          handler(decode(msg.data), fromNatsHeaders(msg.headers));
        } catch (e) {
          this.log.warn({ err: e, subject }, 'event handler failed');
        }
      },
    });
    return this.track(sub);
  }

  private track(sub: NatsSubscription): Subscription {
    this.subs.add(sub);
    return {
      unsubscribe: () => {
        if (!this.subs.delete(sub)) return;
        try {
          sub.unsubscribe();
        } catch {
          /* connection already closed */
        }
      },
    };
  }

  async ping(): Promise<void> {
    if (this.closed || this.nc.isClosed()) throw new RegistryUnavailableError('NATS connection closed');
    if (!this.connected) throw new RegistryUnavailableError('NATS disconnected');
    try {
      const rtt = await withTimeout(this.nc.rtt(), NATS_PING_TIMEOUT_MS);
      if (rtt === undefined) throw new RegistryTimeoutError(`NATS ping took over ${NATS_PING_TIMEOUT_MS} ms`);
    } catch (err) {
      if (err instanceof RegistryTimeoutError) throw err;
      throw new RegistryUnavailableError(`NATS ping failed: ${errorMessage(err)}`, err);
    }
  }

  /** Idempotent. Drains (in-flight replies go out), bounded by NATS_DRAIN_TIMEOUT_MS, then closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subs.clear();
    this.failPending((p) => new RegistryUnavailableError(`bus closed while asking ${p.subject}`));
    if (this.nc.isClosed()) return;
    const drained = await withTimeout(this.nc.drain().then(() => true, () => false), NATS_DRAIN_TIMEOUT_MS);
    if (!drained && !this.nc.isClosed()) await this.nc.close().catch(() => undefined);
  }
}
