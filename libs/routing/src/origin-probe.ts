import type { Endpoint } from '@srs-proxy/balancer';
import { errorMessage } from '@srs-proxy/runtime';

/**
 * One protocol-level question to an origin on a fresh connection (an RTMP handshake, an HTTP
 * request): resolves when the origin answered, rejects otherwise. It must release its socket when
 * `signal` aborts. A hung process still has its kernel accept connections and queue bytes, so
 * only an answer from the process counts.
 */
export type ProbeFn = (endpoint: Endpoint, signal: AbortSignal) => Promise<void>;

export interface OriginProberOptions {
  probe: ProbeFn;
  /** Bound on one probe (PROXY_ORIGIN_CONNECT_TIMEOUT: reaching an origin on the same network). */
  timeoutMs: number;
  /** A finished probe answers later questions about the same origin for this long. */
  reuseMs: number;
  now?: () => number;
}

export interface ProbeResult {
  alive: boolean;
  /** Why the origin counts as dead (for the log and the failure report). */
  reason?: string;
}

interface Entry {
  at: number;
  result: Promise<ProbeResult>;
}

// Origins probed recently, kept per edge; past this the oldest are forgotten (a probe is cheap).
const MAX_ENTRIES = 1_024;

/**
 * The edge's liveness probes of origins its sessions suspect: one probe per origin at a time,
 * its answer shared by every session that asks within `reuseMs`, so a thousand publishers on one
 * origin cost one connection per interval, not a thousand.
 */
export class OriginProber {
  private readonly probe: ProbeFn;
  private readonly timeoutMs: number;
  private readonly reuseMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();

  constructor(opts: OriginProberOptions) {
    this.probe = opts.probe;
    this.timeoutMs = opts.timeoutMs;
    this.reuseMs = opts.reuseMs;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Whether `originId` answers at `endpoint`; never rejects. */
  check(originId: string, endpoint: Endpoint): Promise<ProbeResult> {
    const now = this.now();
    const key = `${originId}\n${endpoint.host}:${endpoint.port}`;
    const hit = this.entries.get(key);
    if (hit !== undefined && now - hit.at < this.reuseMs) return hit.result;
    if (hit !== undefined) this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    const result = this.run(endpoint);
    this.entries.set(key, { at: now, result });
    // The reuse window starts when the answer is known: a slow probe is not stale on arrival.
    void result.then(() => {
      const e = this.entries.get(key);
      if (e?.result === result) e.at = this.now();
    });
    return result;
  }

  private async run(endpoint: Endpoint): Promise<ProbeResult> {
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ProbeResult>((resolve) => {
      timer = setTimeout(() => resolve({ alive: false, reason: `no answer to a probe within ${this.timeoutMs} ms` }), this.timeoutMs);
    });
    const answered = this.probe(endpoint, ac.signal).then(
      (): ProbeResult => ({ alive: true }),
      (err: unknown): ProbeResult => ({ alive: false, reason: `probe failed: ${errorMessage(err)}` }),
    );
    try {
      return await Promise.race([answered, timeout]);
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
