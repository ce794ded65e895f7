// Pick latency p50/p99 as an edge sees it (BusRegistryClient.pick round trip), at fixed offered
// rates with open-loop pacing (requests are sent on schedule whether or not earlier ones have
// answered), for:
//   standalone: InprocTransport → RegistryService → memory balancer (one process)
//   cluster:    NatsTransport → nats-server → registry process → Redis balancer → redis-server
// Spawns its own redis-server, nats-server and registry process. Prints one table.
//
//   node --import tsx bench/pick-latency.ts
import { performance } from 'node:perf_hooks';
import { createBalancer } from '@srs-proxy/balancer';
import { BusRegistryClient, InprocTransport, NatsTransport, type RegistryClient } from '@srs-proxy/bus';
import { createLogger, createMetricsRegistry, readConfig } from '@srs-proxy/runtime';
import { RegistryService, registrySchema } from '@srs-proxy/registry';
import { startNats, startRedis } from '@srs-proxy/test';
import { spawnRegistry } from '../services/registry/test/cluster-support.ts';

/** Offered loads from the issue. */
const RATES = [1_000, 5_000];
/** Measured seconds per (mode, rate): thousands of samples, so p99 is stable; bounded run time. */
const DURATION_S = 5;
/** Unmeasured picks first (JIT, connections, Lua script cache). */
const WARMUP_PICKS = 2_000;
/** One pick in this many is for a brand-new stream (first pick: placement + atomic store); the rest are repeat viewers of a pool. */
const NEW_STREAM_EVERY = 5;
const STREAM_POOL = 2_000;
/** Origins registered; placement cost grows with candidates. */
const ORIGINS = 20;
/** The edge's default PROXY_REGISTRY_TIMEOUT. */
const PICK_TIMEOUT_MS = 2_000;
/** Pacing tick: each tick sends every pick whose scheduled time has come. */
const TICK_MS = 1;
/** Target from the issue. */
const TARGET_CLUSTER_P99_MS = 2;

const logger = createLogger({ service: 'bench', level: 'silent' });

function heartbeatBody(n: number): Record<string, unknown> {
  return { device_id: `o${n}`, ip: `10.0.${n >> 8}.${n & 255}`, server: `vid-b${n}`, service: 'benchsvc', pid: String(100 + n), rtmp: ['1935'], http: ['8080'], api: ['1985'], srt: ['udp://0.0.0.0:10080'], rtc: ['udp://0.0.0.0:8000'] };
}

interface Result { mode: string; rate: number; sent: number; achieved: number; p50: number; p90: number; p99: number; max: number; errors: number }

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

let streamSeq = 0;
function nextStream(i: number): string {
  if (i % NEW_STREAM_EVERY === 0) return `__defaultVhost__/live/new-${streamSeq++}`;
  return `__defaultVhost__/live/pool-${i % STREAM_POOL}`;
}

/** Open-loop run: pick i is due at start + i/rate; latency is measured from its actual send. */
async function run(client: RegistryClient, mode: string, rate: number, seconds: number): Promise<Result> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
      while (sent < due) {
        const i = sent++;
        const t0 = performance.now();
        pending.push(client.pick(nextStream(i), { protocol: 'rtmp' }).then(
          () => void latencies.push(performance.now() - t0),
          () => void errors++,
        ));
      }
      if (sent < total) setTimeout(tick, TICK_MS);
      else resolve();
    };
    tick();
  });
  const sendSeconds = (performance.now() - start) / 1000;
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  return {
    mode, rate, sent, achieved: Math.round(sent / sendSeconds), errors,
    p50: quantile(latencies, 0.5), p90: quantile(latencies, 0.9), p99: quantile(latencies, 0.99), max: latencies[latencies.length - 1] ?? NaN,
  };
}

async function warmup(client: RegistryClient): Promise<void> {
  for (let i = 0; i < WARMUP_PICKS; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, k) => client.pick(`__defaultVhost__/live/warm-${i + k}`)));
  }
}

async function standalone(): Promise<Result[]> {
  const balancer = createBalancer({ type: 'memory' });
  await balancer.init();
  const bus = new InprocTransport();
  const config = { ...readConfig(registrySchema, { PROXY_SYSTEM_API: '127.0.0.1:0' }), originTtlMs: 300_000 };
  const registry = new RegistryService({ logger, metrics: createMetricsRegistry(), balancer, bus }, config);
  await registry.start();
  try {
    for (let n = 0; n < ORIGINS; n++) {
      const res = await fetch(`http://127.0.0.1:${registry.systemApiPort}/api/v1/srs/register`, { method: 'POST', body: JSON.stringify(heartbeatBody(n)) });
      if (res.status !== 200) throw new Error(`register failed: ${res.status}`);
    }
    const client = new BusRegistryClient(bus, PICK_TIMEOUT_MS);
    await warmup(client);
    const out: Result[] = [];
    for (const rate of RATES) out.push(await run(client, 'standalone (inproc + memory)', rate, DURATION_S));
    return out;
  } finally {
    await registry.close('bench done');
    await bus.close();
    await balancer.close();
  }
}

async function cluster(): Promise<Result[]> {
  const [redis, nats] = await Promise.all([startRedis(), startNats()]);
  const registry = await spawnRegistry({ natsUrl: nats.url, redisPort: redis.port, env: { PROXY_LOG_LEVEL: 'warn' } }).catch(async (err: unknown) => {
    await Promise.all([redis.stop(), nats.stop()]);
    throw err;
  });
  const bus = await NatsTransport.connect({ servers: nats.url, name: 'bench-edge', logger });
  try {
    for (let n = 0; n < ORIGINS; n++) {
      const res = await fetch(`http://127.0.0.1:${registry.systemPort}/api/v1/srs/register`, { method: 'POST', body: JSON.stringify(heartbeatBody(n)) });
      if (res.status !== 200) throw new Error(`register failed: ${res.status}`);
    }
    const client = new BusRegistryClient(bus, PICK_TIMEOUT_MS);
    await warmup(client);
    const out: Result[] = [];
    for (const rate of RATES) out.push(await run(client, 'cluster (NATS + registry + Redis)', rate, DURATION_S));
    return out;
  } finally {
    await bus.close();
    await registry.stop();
    await Promise.all([redis.stop(), nats.stop()]);
  }
}

const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(3) : '-');
const results = [...(await standalone()), ...(await cluster())];
console.log(`pick latency, open loop, ${DURATION_S} s per row, 1 in ${NEW_STREAM_EVERY} picks a new stream, ${ORIGINS} origins (ms)`);
console.log('| mode | offered/s | achieved/s | picks | errors | p50 | p90 | p99 | max |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(`| ${r.mode} | ${r.rate} | ${r.achieved} | ${r.sent} | ${r.errors} | ${fmt(r.p50)} | ${fmt(r.p90)} | ${fmt(r.p99)} | ${fmt(r.max)} |`);
}
console.log('\ncluster / standalone ratios');
console.log('| offered/s | p50 ratio | p99 ratio | cluster p99 vs target |');
console.log('|---:|---:|---:|---|');
for (const rate of RATES) {
  const s = results.find((r) => r.rate === rate && r.mode.startsWith('standalone'))!;
  const c = results.find((r) => r.rate === rate && r.mode.startsWith('cluster'))!;
  console.log(`| ${rate} | ${(c.p50 / s.p50).toFixed(1)}x | ${(c.p99 / s.p99).toFixed(1)}x | ${fmt(c.p99)} ms ${c.p99 <= TARGET_CLUSTER_P99_MS ? '<=' : '>'} ${TARGET_CLUSTER_P99_MS} ms |`);
}
