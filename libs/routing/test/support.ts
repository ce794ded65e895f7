import { createServer, type Server, type Socket } from 'node:net';
import { createBalancer, type Balancer } from '@srs-proxy/balancer';
import { BusRegistryClient, InprocTransport, type RegistryClient } from '@srs-proxy/bus';
import { createLogger, createMetricsRegistry, readConfig, type Logger } from '@srs-proxy/runtime';
import { RegistryService, registrySchema } from '@srs-proxy/registry';
import { LogCapture } from '../../../test/support/log-capture.ts';
import { freeTcpPort } from '../../../test/support/ports.ts';

/** A real registry (memory balancer) on the in-process bus, as the standalone proxy wires it. */
export interface TestCluster {
  bus: InprocTransport;
  balancer: Balancer;
  client: RegistryClient;
  logs: LogCapture;
  logger: Logger;
  /** Registers an origin `name` whose RTMP endpoint is `port`; returns its id. */
  register(name: string, port: number): Promise<string>;
  /** A registry outage: its responders leave the bus (requests fail as when no registry runs). */
  stopRegistry(): Promise<void>;
  /** The registry is back (same balancer, state kept). */
  startRegistry(): Promise<void>;
  close(): Promise<void>;
}

export async function startCluster(): Promise<TestCluster> {
  const balancer = createBalancer({ type: 'memory' });
  await balancer.init();
  const bus = new InprocTransport();
  const config = { ...readConfig(registrySchema, { PROXY_SYSTEM_API: '127.0.0.1:0' }), originTtlMs: 300_000 };
  const newRegistry = () => new RegistryService({ logger: createLogger({ service: 'registry', level: 'silent' }), metrics: createMetricsRegistry(), balancer, bus }, config);
  let registry = newRegistry();
  await registry.start();
  let systemApiPort = registry.systemApiPort;
  const logs = new LogCapture();
  return {
    bus, balancer, logs,
    async stopRegistry() {
      await registry.close();
    },
    async startRegistry() {
      registry = newRegistry();
      await registry.start();
      systemApiPort = registry.systemApiPort;
    },
    client: new BusRegistryClient(bus, 2_000),
    logger: createLogger({ service: 'edge', level: 'debug', destination: logs }),
    async register(name, port) {
      const body = { ip: '127.0.0.1', server: name, service: 'svc', pid: '1', rtmp: [String(port)], http: [String(port)] };
      const r = await fetch(`http://127.0.0.1:${systemApiPort}/api/v1/srs/register`, { method: 'POST', body: JSON.stringify(body) });
      await r.text();
      if (r.status !== 200) throw new Error(`register ${name}: ${r.status}`);
      return `${name}-svc-1`;
    },
    async close() {
      await registry.close();
      await balancer.close();
      await bus.close();
    },
  };
}

/** A port nothing listens on (connects are refused). */
export const refusedPort = freeTcpPort;

/** A TCP listener that accepts and holds connections. */
export async function listening(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
