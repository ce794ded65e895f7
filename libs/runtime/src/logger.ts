import { pino, type Logger, type LevelWithSilent } from 'pino';
import { newCid } from './ids.ts';

export type { Logger };

export interface LoggerOptions {
  service: string;
  level?: LevelWithSilent;
  /** Write somewhere other than stdout (tests capture logs). */
  destination?: NodeJS.WritableStream;
}

/** Root logger of a process. Secrets are redacted wherever they appear. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: opts.service, pid: process.pid },
      redact: {
        paths: ['password', '*.password', 'token', '*.token', 'secret', '*.secret', 'headers.authorization', 'redisPassword'],
        censor: '******',
      },
    },
    opts.destination ?? process.stdout,
  );
}

/** Child logger for one client session, carrying a short context id. */
export function sessionLogger(parent: Logger, fields: { proto: string; [k: string]: unknown }): Logger {
  return parent.child({ cid: newCid(), ...fields });
}

/**
 * Logs at most `perInterval` lines per `intervalMs` for a noisy condition (unknown STUN ufrag,
 * malformed datagrams), then one summary line with the number suppressed. Attackers control the
 * rate of such events; the log volume must not follow it.
 */
export class RateLimitedLog {
  private windowStart = 0;
  private count = 0;
  private suppressed = 0;
  constructor(
    private readonly log: Logger,
    private readonly perInterval = 10,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(obj: Record<string, unknown>, msg: string): void {
    const t = this.now();
    if (t - this.windowStart >= this.intervalMs) {
      if (this.suppressed > 0) this.log.warn({ suppressed: this.suppressed }, `${this.suppressed} similar messages suppressed`);
      this.windowStart = t;
      this.count = 0;
      this.suppressed = 0;
    }
    if (this.count < this.perInterval) {
      this.count++;
      this.log.warn(obj, msg);
    } else {
      this.suppressed++;
    }
  }
}
