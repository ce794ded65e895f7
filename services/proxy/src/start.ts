import {
  createMetricsRegistry, readConfig, describeConfig, startTelemetry, OpsServer, Starter, ConfigError, isDrainable,
  type Closable, type ConfigOf, type Logger, type commonSchema,
} from '@srs-proxy/runtime';
import { createBalancer, DEFAULT_BALANCER_OPTIONS } from '@srs-proxy/balancer';
import { InprocTransport, NatsTransport, BusRegistryClient, EdgeAnnouncer, type BusTransport, type EdgeDeps } from '@srs-proxy/bus';
import { RegistryService, registrySchema } from '@srs-proxy/registry';
import { RtmpEdge, rtmpEdgeSchema } from '@srs-proxy/rtmp-edge';
import { HttpEdge, httpEdgeSchema } from '@srs-proxy/http-edge';
import { RtcEdge, rtcEdgeSchema } from '@srs-proxy/rtc-edge';
import { SrtEdge, srtEdgeSchema } from '@srs-proxy/srt-edge';
import { edgesOf, runsRegistry, type EdgeRole, type Role } from './roles.ts';

type Common = ConfigOf<typeof commonSchema>;

/** A registry answer this recent proves an edge can route; Kubernetes probes every 10 s by default. */
const REGISTRY_ANSWER_FRESH_MS = 5_000;

/** Starts one edge by role; each reads its own schema (bad values stop the process, naming the variable). */
function makeEdge(role: EdgeRole, deps: EdgeDeps): Closable & { start(): Promise<void> } {
  switch (role) {
    case 'rtmp-edge':
      return new RtmpEdge(deps, readConfig(rtmpEdgeSchema));
    case 'http-edge':
      return new HttpEdge(deps, readConfig(httpEdgeSchema));
    case 'rtc-edge':
      return new RtcEdge(deps, readConfig(rtcEdgeSchema));
    case 'srt-edge':
      return new SrtEdge(deps, readConfig(srtEdgeSchema));
  }
}

/**
 * Wires a process: the bus (NATS when PROXY_NATS_URL is set, else in-process), the registry with
 * its balancer when the role hosts it, the edges of the role, and the ops listener. Start order
 * follows the Go proxy's (registry before the edges that ask it); close order is the reverse.
 */
export async function startProxy(role: Role, common: Common, logger: Logger): Promise<Closable[]> {
  const starter = new Starter();
  const serviceName = role === 'standalone' ? 'srs-proxy' : `srs-proxy-${role}`;
  if (role !== 'standalone' && role !== 'registry' && !common.natsUrl) {
    throw new ConfigError('PROXY_NATS_URL', `is required for role ${role}: a separate edge reaches the registry over NATS`);
  }
  if (role === 'registry' && common.loadBalancerType === 'memory' && common.natsUrl) {
    logger.warn('registry with the memory balancer: registry replicas will not share state; use PROXY_LOAD_BALANCER_TYPE=redis');
  }
  // Parse every schema this process needs before opening any socket, so bad config fails fast.
  const registryConfig = runsRegistry(role) ? readConfig(registrySchema) : undefined;
  const edgeRoles = edgesOf(role);

  const telemetry = await startTelemetry({ serviceName, otlpEndpoint: common.otlpEndpoint });
  starter.started.push({ close: () => telemetry.close() });
  const metrics = createMetricsRegistry({ service: serviceName });
  const ops = new OpsServer(metrics);

  const bus: BusTransport = await starter.add('bus', async () =>
    common.natsUrl
      ? NatsTransport.connect({ servers: common.natsUrl, token: common.natsToken, name: serviceName, logger })
      : new InprocTransport(),
  );
  // A registry keeps its System API (heartbeats) in the Service while NATS is down: its readiness
  // is its store. Edges need the bus to route new sessions.
  if (role !== 'registry') ops.addCheck({ name: 'bus', check: () => bus.ping() });

  if (registryConfig) {
    logger.debug({ config: describeConfig(registrySchema) }, 'registry configuration');
    const balancer = createBalancer({
      type: common.loadBalancerType,
      redis: {
        host: common.redisHost,
        port: common.redisPort,
        password: common.redisPassword,
        db: common.redisDb,
        keyPrefix: common.redisKeyPrefix,
      },
      options: { ...DEFAULT_BALANCER_OPTIONS, originTtlMs: common.originServerTtl, strategy: common.loadBalanceStrategy },
    });
    await starter.add('balancer', async () => {
      await balancer.init();
      return balancer;
    });
    ops.addCheck({ name: 'balancer', check: () => balancer.ping() });
    const registry = new RegistryService({ logger: logger.child({ svc: 'registry' }), metrics, balancer, bus }, { ...registryConfig, originTtlMs: common.originServerTtl, placementLeaseIntervalMs: common.placementLeaseInterval });
    await starter.add('registry', async () => {
      await registry.start();
      return registry;
    });
  }

  const client = new BusRegistryClient(bus, common.registryTimeout);
  if (role !== 'registry' && role !== 'standalone') {
    ops.addCheck({ name: 'registry', check: () => registryAnswering(client) });
  }
  for (const edgeRole of edgeRoles) {
    const edge = makeEdge(edgeRole, {
      logger: logger.child({ svc: edgeRole }),
      metrics,
      registry: client,
      events: bus,
      routing: { connectTimeoutMs: common.originConnectTimeout, attempts: common.originAttempts, staleMaxMs: common.routeStaleMaxAge, stallTimeoutMs: common.originStallTimeout, leaseIntervalMs: common.placementLeaseInterval },
    });
    await starter.add(edgeRole, async () => {
      await edge.start();
      return edge;
    });
    // Added after its edge, so closed before it: the `gone` announcement leaves while the bus is up.
    await starter.add(`${edgeRole} announcer`, () => {
      const announcer = new EdgeAnnouncer({ bus, logger }, { role: edgeRole, listen: listenersOf(edgeRole, edge), sessions: () => (isDrainable(edge) ? edge.activeSessions : 0) });
      announcer.start();
      return announcer;
    });
  }

  await starter.add('ops server', async () => {
    const port = await ops.listen(common.opsServer);
    logger.info({ port }, 'ops listener (/healthz, /readyz, /metrics) ready');
    return ops;
  });
  // The ops listener starts last (ready only once everything is up) but closes last too, so
  // probes and /metrics keep answering while sessions drain.
  return [ops, ...starter.started.filter((c) => c !== ops)];
}

/** The bound listeners an edge announces (`:<port>`; a configured port 0 shows the real one). */
function listenersOf(role: EdgeRole, edge: object): Record<string, string> {
  const bound = (field: string): string => {
    const port = (edge as Record<string, unknown>)[field];
    return typeof port === 'number' ? `:${port}` : 'unknown';
  };
  switch (role) {
    case 'rtmp-edge':
      return { rtmp: bound('port') };
    case 'http-edge':
      return { http: bound('port') };
    case 'rtc-edge':
      return { api: bound('apiPort'), webrtc: `udp ${bound('port')}` };
    case 'srt-edge':
      return { srt: `udp ${bound('port')}` };
  }
}

/**
 * An edge can route new sessions when a registry answered within REGISTRY_ANSWER_FRESH_MS (any
 * request, errors it returned included); otherwise one ping decides, bounded by the registry
 * timeout like every other question.
 */
async function registryAnswering(client: BusRegistryClient): Promise<void> {
  const last = client.lastAnswerAt;
  if (last !== undefined && Date.now() - last < REGISTRY_ANSWER_FRESH_MS) return;
  await client.ping();
}
