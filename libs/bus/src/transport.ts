/** Headers carried with a message (trace context: `traceparent`, `tracestate`). */
export type Headers = Record<string, string>;

export type RequestHandler = (data: unknown, headers: Headers) => Promise<unknown>;
export type EventHandler = (data: unknown, headers: Headers) => void;

export interface Subscription {
  unsubscribe(): void;
}

/**
 * The bus as the services see it: JSON request/reply with typed errors and fire-and-forget
 * events. Two implementations: NATS (cluster) and in-process (standalone). A request handler's
 * thrown error travels back as `{code, message}` and is re-thrown on the caller as RemoteError.
 */
export interface BusTransport {
  readonly kind: 'nats' | 'inproc';
  /** Rejects with RegistryTimeoutError / RegistryUnavailableError / RemoteError. */
  request(subject: string, data: unknown, opts: { timeoutMs: number; headers?: Headers }): Promise<unknown>;
  /** Serve requests; with `queue`, replicas sharing the queue name split the requests. */
  serve(subject: string, handler: RequestHandler, opts?: { queue?: string }): Subscription;
  publish(subject: string, data: unknown, headers?: Headers): void;
  subscribe(subject: string, handler: EventHandler): Subscription;
  /** Throws when the transport cannot currently reach the bus (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
