import type { Logger } from 'pino';

/** Anything a process starts and must stop on shutdown. */
export interface Closable {
  close(reason?: string): Promise<void> | void;
}

/**
 * A service that serves client sessions and drains them on shutdown: it stops taking new ones
 * while the live ones go on, and reports how many are still live.
 */
export interface Drainable extends Closable {
  /** Stops taking new sessions (closes listeners, refuses new peers); live sessions go on. */
  stopAccepting(): Promise<void> | void;
  /** Sessions (or in-flight requests) a drain waits for. */
  readonly activeSessions: number;
}

/** Told first when a shutdown starts, before anything stops (the ops server fails /readyz). */
export interface DrainAware {
  beginDrain(): void;
}

export function isDrainable(c: Closable): c is Drainable {
  return typeof (c as Partial<Drainable>).stopAccepting === 'function' && typeof (c as Partial<Drainable>).activeSessions === 'number';
}

function isDrainAware(c: Closable): c is Closable & DrainAware {
  return typeof (c as Partial<DrainAware>).beginDrain === 'function';
}

export interface ProcessOptions {
  logger: Logger;
  /** PROXY_GRACE_QUIT_TIMEOUT: one total deadline, from the signal, for live sessions to end. */
  graceQuitMs: number;
  /** PROXY_FORCE_QUIT_TIMEOUT: from the signal, exit 1 whatever is still running. */
  forceQuitMs: number;
  /** PROXY_DRAIN_DELAY: after SIGTERM, listeners keep accepting this long while endpoints update. */
  drainDelayMs?: number;
  /** Exit hook; tests replace it. */
  exit?: (code: number) => void;
  /** Where SIGINT/SIGTERM arrive; tests pass their own emitter. */
  signals?: Pick<NodeJS.EventEmitter, 'on'>;
}

/** Exit codes kept from the Go proxy. */
export const EXIT_OK = 0;
export const EXIT_FORCED = 1;
export const EXIT_FATAL = 255;

/** How often a drain looks at the live-session count: fine enough to exit promptly, cheap. */
export const DRAIN_POLL_MS = 100;
/** After the deadline, closers only tear down: one stuck closer must not eat the force-quit margin. */
export const CLOSE_STEP_TIMEOUT_MS = 3_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs a service process: `start` returns the things to close, in start order. A shutdown signal
 * drains, then closes:
 *  1. at once, every DrainAware part is told (readiness turns 503);
 *  2. on SIGTERM, listeners keep accepting for the drain delay (load balancers and Kubernetes
 *     endpoints stop sending new clients); SIGINT, an operator at a terminal, skips it;
 *  3. every Drainable stops accepting; in-flight requests and live sessions go on;
 *  4. once no session is live, or the grace deadline (from the signal) passes, everything is
 *     closed in reverse start order, which ends the remaining sessions with a protocol close;
 *  5. exit 0. A watchdog exits 1 once the force-quit timeout passes.
 * A start-up failure is logged with its real error and exits 255 promptly, after closing whatever
 * had already started.
 */
export async function runProcess(opts: ProcessOptions, start: () => Promise<Closable[]>): Promise<void> {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const log = opts.logger;
  let closables: Closable[] = [];
  let stopping = false;

  const closeAll = async (reason: string) => {
    for (const c of [...closables].reverse()) {
      try {
        await withTimeout(Promise.resolve(c.close(reason)), CLOSE_STEP_TIMEOUT_MS);
      } catch (err) {
        log.warn({ err }, 'closer failed');
      }
    }
  };

  const drain = async (signal: NodeJS.Signals) => {
    const deadline = Date.now() + opts.graceQuitMs;
    for (const c of closables) if (isDrainAware(c)) c.beginDrain();
    const delay = signal === 'SIGTERM' ? Math.min(opts.drainDelayMs ?? 0, opts.graceQuitMs) : 0;
    if (delay > 0) {
      log.info({ delayMs: delay }, 'draining: not ready; listeners stay open while endpoints update');
      await sleep(delay);
    }
    const drainables = closables.filter(isDrainable);
    for (const d of drainables) {
      try {
        await d.stopAccepting();
      } catch (err) {
        log.warn({ err }, 'stop accepting failed');
      }
    }
    const live = () => drainables.reduce((n, d) => n + d.activeSessions, 0);
    log.info({ sessions: live(), deadlineMs: Math.max(0, deadline - Date.now()) }, 'draining: listeners closed, waiting for live sessions');
    while (live() > 0 && Date.now() < deadline) await sleep(Math.min(DRAIN_POLL_MS, Math.max(1, deadline - Date.now())));
    const left = live();
    if (left > 0) log.info({ sessions: left }, 'grace deadline passed: closing the remaining sessions');
    else log.info('drained: no live session');
  };

  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, `Got signal ${signal}`);
    if (stopping) return;
    stopping = true;
    const watchdog = setTimeout(() => {
      log.error('Force to exit by timeout');
      exit(EXIT_FORCED);
    }, opts.forceQuitMs);
    watchdog.unref();
    void drain(signal)
      .then(() => closeAll(signal))
      .then(() => {
        log.info('SRSProxy done');
        clearTimeout(watchdog);
        exit(EXIT_OK);
      });
  };
  const signals = opts.signals ?? process;
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);

  try {
    closables = await start();
  } catch (err) {
    const cause = err instanceof StartupError ? err.cause : err;
    log.fatal({ err: cause }, `start-up failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    stopping = true;
    // start() records partial progress by throwing StartupError with what it had started.
    if (err instanceof StartupError) closables = err.started;
    await closeAll('startup failure');
    exit(EXIT_FATAL);
  }
}

/** Thrown from a `start` function after some parts already started, so they get closed. */
export class StartupError extends Error {
  constructor(
    readonly started: Closable[],
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** Starts parts in order, collecting them; a failure throws StartupError carrying the started ones. */
export class Starter {
  readonly started: Closable[] = [];
  async add<T extends Closable>(what: string, make: () => Promise<T> | T): Promise<T> {
    try {
      const c = await make();
      this.started.push(c);
      return c;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      e.message = `${what}: ${e.message}`;
      throw new StartupError(this.started, e);
    }
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
      timer.unref();
    }),
  ]);
}
