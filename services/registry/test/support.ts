import { request as httpRequest, Agent } from 'node:http';
import { createBalancer, type Balancer, type BalancerOptions } from '@srs-proxy/balancer';
import { InprocTransport, type BusTransport } from '@srs-proxy/bus';
import { createLogger, createMetricsRegistry, readConfig, type Logger, type Registry } from '@srs-proxy/runtime';
import { RegistryService, registrySchema, type RegistryTimers } from '../src/index.ts';
import { LogCapture } from '../../../test/support/log-capture.ts';

/** The exact SRS 7 heartbeat captured from a real origin (spec 3.7). */
export const SRS7_UPSTREAM_EXAMPLE =
  '{"device_id":"origin1","ip":"192.0.2.2","server":"vid-12r842t","service":"z4771793","pid":"5873","rtmp":["19351"],"http":["8081"],"api":["19851"],"srt":["udp://0.0.0.0:10081"]}';

export { LogCapture };

export interface TestRegistry {
  registry: RegistryService;
  balancer: Balancer;
  bus: BusTransport;
  logs: LogCapture;
  logger: Logger;
  metrics: Registry;
  port: number;
  close(): Promise<void>;
}

/** A registry on 127.0.0.1:0 with a memory balancer and an in-process bus unless given. */
export async function startTestRegistry(opts: {
  env?: Record<string, string>;
  balancer?: Balancer;
  bus?: BusTransport;
  balancerOptions?: Partial<BalancerOptions>;
  now?: () => number;
  timers?: Partial<RegistryTimers>;
  originTtlMs?: number;
} = {}): Promise<TestRegistry> {
  const logs = new LogCapture();
  const logger = createLogger({ service: 'registry-test', level: 'debug', destination: logs });
  const originTtlMs = opts.originTtlMs ?? 300_000;
  const balancer = opts.balancer ?? createBalancer({ type: 'memory', options: { originTtlMs, ...(opts.now ? { now: opts.now } : {}), ...opts.balancerOptions } });
  await balancer.init();
  const bus = opts.bus ?? new InprocTransport();
  const config = { ...readConfig(registrySchema, { PROXY_SYSTEM_API: '127.0.0.1:0', ...opts.env }), originTtlMs };
  const metrics = createMetricsRegistry();
  const registry = new RegistryService({ logger, metrics, balancer, bus, now: opts.now, timers: opts.timers }, config);
  await registry.start();
  return {
    registry, balancer, bus, logs, logger, metrics, port: registry.systemApiPort,
    async close() {
      await registry.close('test done');
      if (!opts.balancer) await balancer.close();
      if (!opts.bus) await bus.close();
    },
  };
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): any;
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** Raw HTTP (no implicit content type, unlike fetch), so bodies reach the server exactly as given. */
export function http(port: number, req: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    const r = httpRequest(
      {
        host: '127.0.0.1', port, agent, method: req.method ?? 'POST', path: req.path,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...req.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

/** A comparable snapshot of everything a register could change. */
export async function stateOf(balancer: Balancer): Promise<string> {
  const origins = await balancer.listOrigins();
  return JSON.stringify(origins.map((o) => o.origin).sort((a, b) => a.id.localeCompare(b.id)));
}

/** Value of one sample of a metric (`name{label="x"}`), 0 when absent. */
export async function metricValue(metrics: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await metrics.getSingleMetric(name)?.get();
  const v = m?.values.find((s) => Object.entries(labels).every(([k, val]) => s.labels[k] === val));
  return v?.value ?? 0;
}
