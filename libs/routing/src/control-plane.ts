import { BAD_ENDPOINT, BAD_REGISTER, BAD_STREAM_URL, NO_ORIGIN, PLACEMENT_SETTLING, STORE_UNAVAILABLE } from '@srs-proxy/balancer';
import { BAD_MESSAGE, REGISTRY_TIMEOUT, REGISTRY_UNAVAILABLE, RemoteError } from '@srs-proxy/bus';
import { Counter, errorCode, errorMessage, metric, ProxyError, type Logger, type Registry } from '@srs-proxy/runtime';

/**
 * Static stability: what an edge does with a registry question when the control plane (NATS, the
 * registry, its store) does not answer. One policy for every edge and every question (stream
 * picks, HLS/DASH sessions, WebRTC ufrags):
 *  - a question the edge has asked before is answered from its cache, even past the cache's fresh
 *    TTL (stale-if-error, bounded by the cache's stale age), and counted;
 *  - a question it cannot answer fails at once with ControlPlaneUnavailableError (503 +
 *    Retry-After, or the protocol's clean refusal), never with internal text;
 *  - after a failure, the next CONTROL_PLANE_RETRY_MS of questions do not wait on the registry
 *    again (a hung registry costs one timeout, not one per client); the first question after that
 *    window probes it, and its answer closes the window;
 *  - identical questions in flight at once are asked once (coalesced).
 */
export const CONTROL_PLANE_UNAVAILABLE = 'SRSP_ERR_CONTROL_PLANE_UNAVAILABLE';

/**
 * How long questions skip the registry after it failed. Short, because it is also the longest a
 * recovered control plane goes unnoticed (the README promises new streams within 2 s of it
 * returning), and it is what clients are told in Retry-After.
 */
export const CONTROL_PLANE_RETRY_MS = 1_000;

/** Answers the registry gives on purpose: they are answers, not outages. */
const ANSWER_CODES: ReadonlySet<string> = new Set([NO_ORIGIN, BAD_STREAM_URL, BAD_ENDPOINT, BAD_REGISTER, BAD_MESSAGE]);

export class ControlPlaneUnavailableError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(CONTROL_PLANE_UNAVAILABLE, message, { status: 503, cause });
  }
}

/** True when `err` means the control plane did not answer (bus down, registry gone, store down). */
export function isControlPlaneFailure(err: unknown): boolean {
  const code = errorCode(err);
  // A registry settling placements after a store reset is treated like one that cannot answer:
  // known streams from the cache, new ones 503 + Retry-After, for those few seconds.
  if (code === REGISTRY_UNAVAILABLE || code === REGISTRY_TIMEOUT || code === STORE_UNAVAILABLE || code === PLACEMENT_SETTLING || code === CONTROL_PLANE_UNAVAILABLE) return true;
  // Anything else the registry failed with (an internal error there) is not an answer either.
  return err instanceof RemoteError && !ANSWER_CODES.has(code ?? '');
}

export interface ControlPlaneGuardOptions {
  /** The edge, as a metric label (`rtmp-edge`, …). */
  edge: string;
  metrics?: Registry;
  logger?: Logger;
  now?: () => number;
  retryMs?: number;
}

/** What the guard counts; shared by every edge of a process (one metric, labelled by edge). */
function guardMetrics(registry: Registry) {
  return {
    stale: metric(registry, 'srsp_route_stale_answers_total', () => new Counter({
      name: 'srsp_route_stale_answers_total',
      help: 'Registry questions answered from an edge cache past its fresh TTL because the control plane did not answer (stale-if-error).',
      labelNames: ['edge', 'question'],
      registers: [registry],
    })),
    failures: metric(registry, 'srsp_route_control_plane_failures_total', () => new Counter({
      name: 'srsp_route_control_plane_failures_total',
      help: 'Registry questions that failed because the control plane (NATS, registry, store) did not answer, by whether a cached answer was used.',
      labelNames: ['edge', 'question', 'outcome'],
      registers: [registry],
    })),
  };
}

/**
 * One edge's gate to the registry (see the policy above). `ask(kind, key, question, cached)`:
 * `cached()` gives the edge's answer for the key whatever its age (undefined: none).
 */
export class ControlPlaneGuard {
  readonly #edge: string;
  readonly #now: () => number;
  readonly #retryMs: number;
  readonly #log: Logger | undefined;
  readonly #metrics: ReturnType<typeof guardMetrics> | undefined;
  readonly #inFlight = new Map<string, Promise<unknown>>();
  /** Until when questions skip the registry; 0 while it answers. */
  #downUntil = 0;

  constructor(opts: ControlPlaneGuardOptions) {
    this.#edge = opts.edge;
    this.#now = opts.now ?? Date.now;
    this.#retryMs = opts.retryMs ?? CONTROL_PLANE_RETRY_MS;
    this.#log = opts.logger;
    this.#metrics = opts.metrics ? guardMetrics(opts.metrics) : undefined;
  }

  /** True while the last registry question failed for want of a control plane. */
  get degraded(): boolean {
    return this.#downUntil !== 0;
  }

  /** Seconds a refused client should wait before asking again (Retry-After). */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.#retryMs / 1000));
  }

  async ask<T>(question: string, key: string, ask: () => Promise<T>, cached: () => T | undefined): Promise<T> {
    if (this.#downUntil > this.#now()) return this.#fallback(question, cached, undefined);
    const id = `${question}\n${key}`;
    const pending = this.#inFlight.get(id) as Promise<T> | undefined;
    if (pending !== undefined) return pending;
    const p = ask().then(
      (answer) => {
        if (this.#downUntil !== 0) {
          this.#downUntil = 0;
          this.#log?.info({ edge: this.#edge }, 'control plane answers again');
        }
        return answer;
      },
      (err: unknown) => {
        if (!isControlPlaneFailure(err)) throw err;
        if (this.#downUntil === 0) this.#log?.warn({ edge: this.#edge, err: errorMessage(err) }, 'control plane not answering: serving what this edge knows');
        this.#downUntil = this.#now() + this.#retryMs;
        return this.#fallback(question, cached, err);
      },
    );
    this.#inFlight.set(id, p);
    const clear = () => this.#inFlight.delete(id);
    p.then(clear, clear);
    return p;
  }

  #fallback<T>(question: string, cached: () => T | undefined, cause: unknown): T {
    const answer = cached();
    if (answer !== undefined) {
      this.#metrics?.stale.inc({ edge: this.#edge, question });
      this.#metrics?.failures.inc({ edge: this.#edge, question, outcome: 'stale' });
      return answer;
    }
    this.#metrics?.failures.inc({ edge: this.#edge, question, outcome: 'refused' });
    throw new ControlPlaneUnavailableError(`control plane unavailable for ${question}`, cause);
  }
}
