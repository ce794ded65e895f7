// Pick latency p50/p99 as an edge sees it (BusRegistryClient.pick round trip), at fixed offered
// rates with open-loop pacing (requests are sent on schedule whether or not earlier ones have
// answered), for:
//   standalone: InprocTransport → RegistryService → memory balancer (one process)
//   cluster:    NatsTransport → nats-server → registry process (`srs-proxy registry`, the
//               production entry) → Redis balancer → redis-server
// and the CPU each process spent per pick (utime + stime from /proc/<pid>/stat over the measured
// window), which stays meaningful when other work loads the machine and skews latency.
// Spawns its own redis-server, nats-server and registry process. Prints tables.
//
//   node --import tsx bench/pick-latency.ts [--only=standalone|cluster] [--rates=1000,5000] [--seconds=5]
//     [--strategies=least-streams,least-load,random] (placement, PROXY_LOAD_BALANCE_STRATEGY; default: the default one)
//   BENCH_CPU_PROF_DIR=/tmp/prof … writes V8 CPU profiles of the registry and the bench client.
import { readFileSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import { spawnSync } from 'node:child_process';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createBalancer, DEFAULT_PLACEMENT_STRATEGY, PLACEMENT_STRATEGIES, type PlacementStrategy } from '@srs-proxy/balancer';
import { BusRegistryClient, InprocTransport, NatsTransport, type RegistryClient } from '@srs-proxy/bus';
import { createLogger, createMetricsRegistry, readConfig, startTelemetry } from '@srs-proxy/runtime';
import { RegistryService, registrySchema } from '@srs-proxy/registry';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, spawnProcess, startNats, startRedis, waitFor, type Spawned } from '@srs-proxy/test';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
/** Offered loads from the issue. */
const RATES = (args.get('rates') ?? '1000,5000').split(',').map(Number);
/** Measured seconds per (mode, rate): thousands of samples, so p99 is stable; bounded run time. */
const DURATION_S = Number(args.get('seconds') ?? 5);
const ONLY = args.get('only');
const STRATEGIES = (args.get('strategies') ?? DEFAULT_PLACEMENT_STRATEGY).split(',') as PlacementStrategy[];
for (const s of STRATEGIES) if (!PLACEMENT_STRATEGIES.includes(s)) throw new Error(`--strategies: unknown strategy ${s}`);
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
/** Event-loop delay histogram resolution for the bench client (is the edge side itself late?). */
const LOOP_DELAY_RESOLUTION_MS = 1;
/** Pause between rows so the previous row's stragglers and GC do not bleed into the next. */
const SETTLE_MS = 500;
const PROF_DIR = process.env.BENCH_CPU_PROF_DIR;

const logger = createLogger({ service: 'bench', level: 'silent' });
/** Clock ticks per second for /proc/<pid>/stat utime and stime. */
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** For `least-load`, heartbeats carry SRS `summaries` (CPU spread over the fleet), as origins with `summaries on` send. */
function heartbeatBody(n: number, strategy: PlacementStrategy): Record<string, unknown> {
  const body: Record<string, unknown> = { device_id: `o${n}`, ip: `10.0.${n >> 8}.${n & 255}`, server: `vid-b${n}`, service: 'benchsvc', pid: String(100 + n), rtmp: ['1935'], http: ['8080'], api: ['1985'], srt: ['udp://0.0.0.0:10080'], rtc: ['udp://0.0.0.0:8000'] };
  if (strategy === 'least-load') body.summaries = { data: { ok: true, self: { cpu_percent: (n % 10) / 20 }, system: { cpu_percent: (n % 10) / 10, load_1m: n % 4, cpus: 4, cpus_online: 4 } } };
  return body;
}

/** utime + stime of a process (all its threads) in µs. */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name (which may contain spaces): state is field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
}

/** read + write system calls of a process so far (all threads), from /proc/<pid>/io. */
function syscalls(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/^syscr: (\d+)$/m.exec(io)?.[1] ?? NaN) + Number(/^syscw: (\d+)$/m.exec(io)?.[1] ?? NaN);
}

interface Proc { name: string; pid: number }
interface Latencies { p50: number; p90: number; p99: number; max: number }
interface Result extends Latencies {
  mode: string; strategy: PlacementStrategy; rate: number; sent: number; achieved: number; errors: number;
  newStream: Latencies; repeat: Latencies;
  /** Process name → CPU µs and read/write syscalls per answered or failed pick, and share of one core over the window. */
  cpu: Map<string, { perPick: number; util: number; syscalls: number }>;
  loopDelayP99: number;
  /** Share of picks the registry answered from its pick cache (cluster), from its /metrics. */
  cacheHits: number | undefined;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
function summary(values: number[]): Latencies {
  values.sort((a, b) => a - b);
  return { p50: quantile(values, 0.5), p90: quantile(values, 0.9), p99: quantile(values, 0.99), max: values[values.length - 1] ?? NaN };
}

let streamSeq = 0;
const isNew = (i: number) => i % NEW_STREAM_EVERY === 0;
function nextStream(i: number): string {
  if (isNew(i)) return `__defaultVhost__/live/new-${streamSeq++}`;
  return `__defaultVhost__/live/pool-${i % STREAM_POOL}`;
}

const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

/** Open-loop run: pick i is due at start + i/rate; latency is measured from its actual send. */
async function run(client: RegistryClient, mode: string, strategy: PlacementStrategy, rate: number, seconds: number, procs: Proc[], cacheHits?: () => Promise<number>): Promise<Result> {
  await settle();
  const total = Math.round(rate * seconds);
  const fresh: number[] = [];
  const repeat: number[] = [];
  let errors = 0;
  let sent = 0;
  const pending: Promise<void>[] = [];
  const loop = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  const hits0 = await cacheHits?.();
  const cpu0 = procs.map((p) => cpuMicros(p.pid));
  const sys0 = procs.map((p) => syscalls(p.pid));
  loop.enable();
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
      while (sent < due) {
        const i = sent++;
        const into = isNew(i) ? fresh : repeat;
        const t0 = performance.now();
        pending.push(client.pick(nextStream(i), { protocol: 'rtmp' }).then(
          () => void into.push(performance.now() - t0),
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
  const wallSeconds = (performance.now() - start) / 1000;
  loop.disable();
  const cpu = new Map(procs.map((p, k) => {
    const used = cpuMicros(p.pid) - cpu0[k]!;
    return [p.name, { perPick: used / total, util: used / 1e6 / wallSeconds, syscalls: (syscalls(p.pid) - sys0[k]!) / total }] as const;
  }));
  return {
    mode, strategy, rate, sent, achieved: Math.round(sent / sendSeconds), errors,
    ...summary([...fresh, ...repeat]), newStream: summary(fresh), repeat: summary(repeat),
    cpu, loopDelayP99: loop.percentile(99) / 1e6,
    cacheHits: hits0 === undefined ? undefined : ((await cacheHits!()) - hits0) / total,
  };
}

async function warmup(client: RegistryClient): Promise<void> {
  for (let i = 0; i < WARMUP_PICKS; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, k) => client.pick(`__defaultVhost__/live/warm-${i + k}`)));
  }
}

const MAIN = fileURLToPath(new URL('../services/proxy/src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** A tsx process boots in 1–3 s; allow for a loaded machine. */
const REGISTRY_READY_TIMEOUT_MS = 30_000;

/** The production registry entry (`srs-proxy registry`: Redis balancer, NATS bus), optionally CPU-profiled. */
async function spawnRegistry(redisPort: number, natsUrl: string, strategy: PlacementStrategy): Promise<{ systemPort: number; proc: Spawned; cacheHits(): Promise<number>; stop(): Promise<unknown> }> {
  const systemPort = await freeTcpPort();
  const opsPort = await freeTcpPort();
  // --cpu-prof is not allowed in NODE_OPTIONS: pass it on the command line. Written at exit, one file per thread (tsx's loader has its own).
  const prof = PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`] : [];
  const proc = spawnProcess(process.execPath, [...prof, '--import', 'tsx', MAIN, 'registry'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PROXY_LOAD_BALANCER_TYPE: 'redis',
      PROXY_LOAD_BALANCE_STRATEGY: strategy,
      PROXY_REDIS_HOST: '127.0.0.1',
      PROXY_REDIS_PORT: String(redisPort),
      PROXY_NATS_URL: natsUrl,
      PROXY_SYSTEM_API: `127.0.0.1:${systemPort}`,
      PROXY_OPS_SERVER: `127.0.0.1:${opsPort}`,
      PROXY_LOG_LEVEL: 'warn',
    },
  });
  try {
    await waitFor(async () => {
      if (proc.child.exitCode !== null) throw new Error(`registry exited ${proc.child.exitCode}: ${proc.output().slice(-2000)}`);
      return (await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => undefined))?.status === 200;
    }, { timeoutMs: REGISTRY_READY_TIMEOUT_MS, intervalMs: 100, what: 'registry /readyz' });
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return {
    systemPort,
    proc,
    async cacheHits() {
      const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
      return Number(/^srsp_registry_pick_cache_hits_total(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1] ?? 0);
    },
    stop: () => proc.stop(),
  };
}

const self: Proc = { name: 'bench client', pid: process.pid };

async function standalone(strategy: PlacementStrategy): Promise<Result[]> {
  const balancer = createBalancer({ type: 'memory', options: { strategy } });
  await balancer.init();
  const bus = new InprocTransport();
  const config = { ...readConfig(registrySchema, { PROXY_SYSTEM_API: '127.0.0.1:0' }), originTtlMs: 300_000 };
  const registry = new RegistryService({ logger, metrics: createMetricsRegistry(), balancer, bus }, config);
  await registry.start();
  try {
    for (let n = 0; n < ORIGINS; n++) {
      const res = await fetch(`http://127.0.0.1:${registry.systemApiPort}/api/v1/srs/register`, { method: 'POST', body: JSON.stringify(heartbeatBody(n, strategy)) });
      if (res.status !== 200) throw new Error(`register failed: ${res.status}`);
    }
    const client = new BusRegistryClient(bus, PICK_TIMEOUT_MS);
    await warmup(client);
    const out: Result[] = [];
    for (const rate of RATES) out.push(await run(client, 'standalone', strategy, rate, DURATION_S, [self]));
    return out;
  } finally {
    await registry.close('bench done');
    await bus.close();
    await balancer.close();
  }
}

async function cluster(strategy: PlacementStrategy): Promise<Result[]> {
  const [redis, nats] = await Promise.all([startRedis(), startNats()]);
  const registry = await spawnRegistry(redis.port, nats.url, strategy).catch(async (err: unknown) => {
    await Promise.all([redis.stop(), nats.stop()]);
    throw err;
  });
  const bus = await NatsTransport.connect({ servers: nats.url, name: 'bench-edge', logger });
  const procs: Proc[] = [
    self,
    { name: 'registry', pid: registry.proc.child.pid! },
    { name: 'nats-server', pid: nats.proc.child.pid! },
    { name: 'redis-server', pid: redis.proc.child.pid! },
  ];
  try {
    for (let n = 0; n < ORIGINS; n++) {
      const res = await fetch(`http://127.0.0.1:${registry.systemPort}/api/v1/srs/register`, { method: 'POST', body: JSON.stringify(heartbeatBody(n, strategy)) });
      if (res.status !== 200) throw new Error(`register failed: ${res.status}`);
    }
    const client = new BusRegistryClient(bus, PICK_TIMEOUT_MS);
    await warmup(client);
    const out: Result[] = [];
    for (const rate of RATES) out.push(await run(client, 'cluster', strategy, rate, DURATION_S, procs, () => registry.cacheHits()));
    return out;
  } finally {
    await bus.close();
    await registry.stop();
    await Promise.all([redis.stop(), nats.stop()]);
  }
}

// Like every service entry: the W3C propagator and async context manager are on, no exporter.
await startTelemetry({ serviceName: 'bench-edge', otlpEndpoint: undefined });
let session: inspector.Session | undefined;
if (PROF_DIR) session = await startClientProfile();

const results: Result[] = [];
for (const strategy of STRATEGIES) {
  if (ONLY !== 'cluster') results.push(...(await standalone(strategy)));
  if (ONLY !== 'standalone') results.push(...(await cluster(strategy)));
}
if (session) await stopClientProfile(session, `${PROF_DIR}/bench-client.cpuprofile`);

const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(3) : '-');
const modeName = (m: string) => (m === 'standalone' ? 'standalone (inproc + memory)' : 'cluster (NATS + registry + Redis)');
console.log(`pick latency, open loop, ${DURATION_S} s per row, 1 in ${NEW_STREAM_EVERY} picks a new stream, ${ORIGINS} origins (ms)`);
console.log('| mode | strategy | offered/s | achieved/s | picks | errors | p50 | p90 | p99 | max | new p99 | repeat p99 | client loop delay p99 | registry cache hits |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(`| ${modeName(r.mode)} | ${r.strategy} | ${r.rate} | ${r.achieved} | ${r.sent} | ${r.errors} | ${fmt(r.p50)} | ${fmt(r.p90)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${fmt(r.newStream.p99)} | ${fmt(r.repeat.p99)} | ${fmt(r.loopDelayP99)} | ${r.cacheHits === undefined ? '-' : `${(r.cacheHits * 100).toFixed(0)}%`} |`);
}

const names = ['bench client', 'registry', 'nats-server', 'redis-server'];
console.log(`\nCPU per pick (µs, utime+stime from /proc/<pid>/stat, ${1e6 / CLK_TCK} µs ticks) and share of one core over the row`);
console.log('| mode | strategy | offered/s | bench client | registry | nats-server | redis-server | total |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const cells = names.map((n) => {
    const c = r.cpu.get(n);
    return c === undefined ? '-' : `${c.perPick.toFixed(1)} (${(c.util * 100).toFixed(0)}%)`;
  });
  const total = [...r.cpu.values()].reduce((s, c) => s + c.perPick, 0);
  console.log(`| ${modeName(r.mode)} | ${r.strategy} | ${r.rate} | ${cells.join(' | ')} | ${total.toFixed(1)} |`);
}
console.log('\nread + write syscalls per pick (/proc/<pid>/io syscr + syscw): batching shows up here first');
console.log('| mode | strategy | offered/s | bench client | registry | nats-server | redis-server |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const r of results) {
  const cells = names.map((n) => r.cpu.get(n)?.syscalls.toFixed(2) ?? '-');
  console.log(`| ${modeName(r.mode)} | ${r.strategy} | ${r.rate} | ${cells.join(' | ')} |`);
}

const std = results.filter((r) => r.mode === 'standalone');
const clu = results.filter((r) => r.mode === 'cluster');
if (std.length > 0 && clu.length > 0) {
  console.log('\ncluster / standalone ratios');
  console.log('| strategy | offered/s | p50 ratio | p99 ratio | cluster p99 vs target |');
  console.log('|---|---:|---:|---:|---|');
  for (const strategy of STRATEGIES) for (const rate of RATES) {
    const s = std.find((r) => r.rate === rate && r.strategy === strategy)!;
    const c = clu.find((r) => r.rate === rate && r.strategy === strategy)!;
    console.log(`| ${strategy} | ${rate} | ${(c.p50 / s.p50).toFixed(1)}x | ${(c.p99 / s.p99).toFixed(1)}x | ${fmt(c.p99)} ms ${c.p99 <= TARGET_CLUSTER_P99_MS ? '<=' : '>'} ${TARGET_CLUSTER_P99_MS} ms |`);
  }
}

async function startClientProfile(): Promise<inspector.Session> {
  const s = new inspector.Session();
  s.connect();
  await post(s, 'Profiler.enable');
  await post(s, 'Profiler.start');
  return s;
}
async function stopClientProfile(s: inspector.Session, file: string): Promise<void> {
  const { profile } = (await post(s, 'Profiler.stop')) as { profile: unknown };
  writeFileSync(file, JSON.stringify(profile));
  s.disconnect();
}
function post(s: inspector.Session, method: string): Promise<unknown> {
  return new Promise((resolve, reject) => s.post(method, (err, res) => (err ? reject(err) : resolve(res))));
}
