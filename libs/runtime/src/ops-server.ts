import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { ListenAddress } from './listen.ts';
import { listenTcp } from './net.ts';
import { httpServerTimeouts } from './http-timeouts.ts';

/** Probes and scrapers send their request at once; a stalled one holds a socket for no reason. */
const OPS_HEADERS_TIMEOUT_MS = 5_000;
import type { DrainAware } from './lifecycle.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/**
 * /healthz (liveness: the process is up and its event loop turns), /readyz (every readiness check
 * passes and no shutdown has started) and /metrics (Prometheus text) on the ops listener. It is
 * the last thing a process closes, so probes keep an answer while sessions drain.
 */
export class OpsServer implements DrainAware {
  private readonly server: Server;
  private readonly checks: ReadinessCheck[] = [];
  private closed = false;
  private draining = false;

  constructor(private readonly registry: Registry) {
    this.server = createServer(httpServerTimeouts({ headersTimeoutMs: OPS_HEADERS_TIMEOUT_MS }), (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        this.readiness().then(
          (failed) => {
            if (failed.length === 0) res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n');
            else res.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${failed.join('; ')}\n`);
          },
          () => res.writeHead(503).end('not ready\n'),
        );
      } else if (path === '/metrics') {
        this.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500).end(String(err)),
        );
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      }
    });
  }

  addCheck(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  /** A shutdown started: /readyz answers 503 from now on, whatever the checks say. */
  beginDrain(): void {
    this.draining = true;
  }

  async readiness(): Promise<string[]> {
    if (this.draining) return ['draining: shutting down'];
    const failed: string[] = [];
    await Promise.all(
      this.checks.map(async (c) => {
        try {
          await c.check();
        } catch (err) {
          failed.push(`${c.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }),
    );
    return failed;
  }

  async listen(addr: ListenAddress): Promise<number> {
    return listenTcp(this.server, addr);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
