import type { Logger } from 'pino';

/** Anything a process starts and must stop on shutdown. */
export interface Closable {
  close(reason?: string): Promise<void> | void;
}

export interface ProcessOptions {
  logger: Logger;
  graceQuitMs: number;
  forceQuitMs: number;
  /** Exit hook; tests replace it. */
  exit?: (code: number) => void;
}

/** Exit codes kept from the Go proxy. */
export const EXIT_OK = 0;
export const EXIT_FORCED = 1;
export const EXIT_FATAL = 255;

/**
 * Runs a service process: `start` returns the things to close, in start order. SIGINT/SIGTERM
 * closes them in reverse order, each bounded by the grace timeout; a watchdog exits with code 1
 * once the force-quit timeout passes. A start-up failure is logged with its real error and exits
 * 255 promptly, after closing whatever had already started.
 */
export async function runProcess(opts: ProcessOptions, start: () => Promise<Closable[]>): Promise<void> {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const log = opts.logger;
  let closables: Closable[] = [];
  let stopping = false;

  const closeAll = async (reason: string) => {
    for (const c of [...closables].reverse()) {
      try {
        await withTimeout(Promise.resolve(c.close(reason)), opts.graceQuitMs);
      } catch (err) {
        log.warn({ err }, 'closer failed');
      }
    }
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
    void closeAll(signal).then(() => {
      log.info('SRSProxy done');
      clearTimeout(watchdog);
      exit(EXIT_OK);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

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
