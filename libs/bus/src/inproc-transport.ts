import type { BusTransport, EventHandler, Headers, RequestHandler, Subscription } from './transport.ts';
import { RegistryTimeoutError, RegistryUnavailableError } from './errors.ts';
import { errorEnvelope, okEnvelope, openEnvelope } from './envelope.ts';

/**
 * The standalone-mode bus: same contract as NATS, no sockets. Messages are JSON-cloned so a
 * handler can never share mutable objects with its caller (as over the wire).
 */
export class InprocTransport implements BusTransport {
  readonly kind = 'inproc' as const;
  private readonly handlers = new Map<string, RequestHandler[]>();
  private readonly listeners = new Map<string, Set<EventHandler>>();
  private rr = 0;
  private closed = false;

  async request(subject: string, data: unknown, opts: { timeoutMs: number; headers?: Headers }): Promise<unknown> {
    const list = this.handlers.get(subject);
    if (this.closed || !list || list.length === 0) throw new RegistryUnavailableError(`no responders for ${subject}`);
    const handler = list[this.rr++ % list.length]!;
    const payload = clone(data);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RegistryTimeoutError(`${subject} timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    });
    const run = handler(payload, { ...(opts.headers ?? {}) }).then(okEnvelope, errorEnvelope);
    try {
      return openEnvelope(clone(await Promise.race([run, timeout])));
    } finally {
      clearTimeout(timer);
    }
  }

  serve(subject: string, handler: RequestHandler): Subscription {
    const list = this.handlers.get(subject) ?? [];
    list.push(handler);
    this.handlers.set(subject, list);
    return {
      unsubscribe: () => {
        const l = this.handlers.get(subject);
        if (l) this.handlers.set(subject, l.filter((h) => h !== handler));
      },
    };
  }

  publish(subject: string, data: unknown, headers: Headers = {}): void {
    const set = this.listeners.get(subject);
    if (!set || this.closed) return;
    const payload = clone(data);
    for (const l of set) {
      // Deliver asynchronously, like NATS; a listener's exception never reaches the publisher.
      queueMicrotask(() => {
        try {
          l(clone(payload), { ...headers });
        } catch {
          /* contained: listeners log their own failures */
        }
      });
    }
  }

  subscribe(subject: string, handler: EventHandler): Subscription {
    const set = this.listeners.get(subject) ?? new Set();
    set.add(handler);
    this.listeners.set(subject, set);
    return { unsubscribe: () => set.delete(handler) };
  }

  async ping(): Promise<void> {
    if (this.closed) throw new RegistryUnavailableError('bus closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    this.listeners.clear();
  }
}

function clone(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
