import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { request as undiciRequest } from 'undici';
import { createBalancer, type Balancer } from '@srs-proxy/balancer';
import { BusRegistryClient, InprocTransport, type BusTransport } from '@srs-proxy/bus';
import { createLogger, createMetricsRegistry, readConfig, type Registry } from '@srs-proxy/runtime';
import { RegistryService, registrySchema } from '@srs-proxy/registry';
import { HttpEdge, httpEdgeSchema, type HttpEdgeLimits } from '../src/index.ts';
import { LogCapture } from '../../../test/support/log-capture.ts';

/** Registry answers within this in tests (in-process bus). */
const REGISTRY_TIMEOUT_MS = 2_000;

export { LogCapture };

export interface Harness {
  edge: HttpEdge;
  port: number;
  balancer: Balancer;
  bus: BusTransport;
  metrics: Registry;
  logs: LogCapture;
  /** POST a heartbeat to the registry's System API. */
  register(body: object): Promise<number>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/**
 * A real registry (memory balancer, in-process bus, System API on a free port) and an http-edge
 * wired to it, both on 127.0.0.1. `now` is the edge's clock (its caches' TTLs): a test that moves
 * it by hand sees an entry expire exactly when it says, however loaded the machine is.
 */
export async function startHarness(
  opts: { limits?: Partial<HttpEdgeLimits>; env?: Record<string, string>; now?: () => number } = {},
): Promise<Harness> {
  const logs = new LogCapture();
  const logger = createLogger({ service: 'http-edge-test', level: 'debug', destination: logs });
  const metrics = createMetricsRegistry();
  const balancer = createBalancer({ type: 'memory', options: { originTtlMs: 300_000 } });
  await balancer.init();
  const bus = new InprocTransport();
  const registry = new RegistryService(
    { logger, metrics, balancer, bus },
    { ...readConfig(registrySchema, { PROXY_SYSTEM_API: '127.0.0.1:0' }), originTtlMs: 300_000 },
  );
  await registry.start();
  const config = readConfig(httpEdgeSchema, { PROXY_HTTP_SERVER: '127.0.0.1:0', ...opts.env });
  const edge = new HttpEdge({ logger, metrics, registry: new BusRegistryClient(bus, REGISTRY_TIMEOUT_MS), now: opts.now }, config, opts.limits);
  await edge.start();
  return {
    edge,
    port: edge.port,
    balancer,
    bus,
    metrics,
    logs,
    async register(body) {
      const r = await fetch(`http://127.0.0.1:${registry.systemApiPort}/api/v1/srs/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await r.text();
      return r.status;
    },
    async metric(name, labels = {}) {
      const m = (await metrics.getMetricsAsJSON()).find((x) => x.name === name);
      const values = (m?.values ?? []) as Array<{ value: number; labels: Record<string, string | number> }>;
      return values
        .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async close() {
      await edge.close('test done');
      await registry.close('test done');
      await balancer.close();
      await bus.close();
    },
  };
}

let originSeq = 0;

/** A register body for an origin whose HTTP server listens on `httpPort`. */
export function originBody(httpPort: number, label = 'o'): object {
  originSeq++;
  return { ip: '127.0.0.1', server: `vid-${label}${originSeq}`, service: 'svc', pid: String(1000 + originSeq), rtmp: ['19350'], http: [String(httpPort)] };
}

/** A plain HTTP origin on 127.0.0.1:0 running `handler` (used where behaviour must be controlled). */
export async function startHttpOrigin(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port with nothing listening (connect is refused). */
export async function refusedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Sends raw request bytes (no client-side path normalisation) and returns the raw response. */
export function rawRequest(port: number, text: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`raw request timed out; got ${JSON.stringify(out.slice(0, 200))}`));
    }, timeoutMs);
    s.on('data', (b) => (out += b.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.write(text);
  });
}

export function waitUntil(fn: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      if (await fn()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    void tick();
  });
}

/** One document of a `countingOrigin`. */
export interface OriginDoc {
  type: string;
  body: string | Buffer;
  status?: number;
  headers?: Record<string, string | string[]>;
  /** Milliseconds before the answer (lets concurrent requests pile up). */
  delayMs?: number;
  /** Send the body without a Content-Length (chunked). */
  chunked?: boolean;
}

/**
 * An origin serving fixed documents by path and recording every request it gets (path with
 * query, and headers), so tests can count what reached it. The table can be changed at any time.
 */
export async function countingOrigin(docs: Record<string, OriginDoc>) {
  const requests: Array<{ url: string; method: string; headers: IncomingMessage['headers'] }> = [];
  const table = { ...docs };
  const o = await startHttpOrigin((req, res) => {
    requests.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers });
    const doc = table[(req.url ?? '').split('?')[0]!];
    if (!doc) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const answer = () => {
      if (res.destroyed) return;
      const length = doc.chunked ? {} : { 'content-length': Buffer.byteLength(doc.body) };
      res.writeHead(doc.status ?? 200, { 'content-type': doc.type, ...length, ...doc.headers });
      if (req.method === 'HEAD') res.end();
      else if (doc.chunked) {
        // A write before end: Node then cannot know the length and sends it chunked.
        res.write(doc.body);
        res.end();
      }
      else res.end(doc.body);
    };
    if (doc.delayMs) setTimeout(answer, doc.delayMs);
    else answer();
  });
  return {
    ...o,
    table,
    requests,
    /** Requests whose path (before `?`) is `path`. */
    hits: (path: string) => requests.filter((r) => r.url.split('?')[0] === path).length,
  };
}

/** GETs a path from the edge; the body is read whole. */
export async function edgeGet(port: number, path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const r = await undiciRequest(`http://127.0.0.1:${port}${path}`, { method, headers });
  const body = Buffer.from(await r.body.arrayBuffer());
  return { status: r.statusCode, headers: r.headers, body, text: body.toString() };
}

/** A clock that only moves when the test says (the edge's `now`). */
export function manualClock(startMs = 1_000_000): { now: () => number; advance(ms: number): void } {
  let ms = startMs;
  return {
    now: () => ms,
    advance(by) {
      ms += by;
    },
  };
}
