// Heartbeat cost with 10,000 registered origins: Redis commands per heartbeat (INFO commandstats
// delta) and CPU per heartbeat (this process via process.cpuUsage, redis-server via INFO cpu), for
// the memory and the Redis balancer. Spawns its own redis-server. Prints one table.
//
//   node --import tsx bench/heartbeat.ts
import { execFileSync } from 'node:child_process';
import { MemoryBalancer, RedisBalancer, parseRegisterBody, type Balancer, type OriginRecord } from '@srs-proxy/balancer';
import { requireBinary, startRedis } from '@srs-proxy/test';

/** The fleet size. */
const ORIGINS = 10_000;
/** Heartbeats measured per balancer: enough for stable per-call figures in a few seconds. */
const HEARTBEATS = 5_000;
/** Unmeasured heartbeats first, so JIT and connection warm-up do not count. */
const WARMUP = 500;
/** Parallel registrations while filling the fleet (setup only, not measured). */
const FILL_CONCURRENCY = 200;

const redisCli = requireBinary('redis-cli');

function cli(port: number, ...args: string[]): string {
  return execFileSync(redisCli, ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });
}

/** Total calls since the last CONFIG RESETSTAT, leaving out our own INFO/CONFIG. */
function commandCalls(port: number): { total: number; byCommand: Record<string, number> } {
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const m of cli(port, 'INFO', 'commandstats').matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (m[1] === 'info' || m[1]!.startsWith('config')) continue;
    byCommand[m[1]!] = Number(m[2]);
    total += Number(m[2]);
  }
  return { total, byCommand };
}

/** redis-server CPU seconds (user + sys) so far. */
function redisCpuSeconds(port: number): number {
  const info = cli(port, 'INFO', 'cpu');
  const get = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return get('used_cpu_user') + get('used_cpu_sys');
}

function originRecord(n: number, now: number): OriginRecord {
  return parseRegisterBody(
    {
      device_id: `origin${n}`,
      ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      server: `vid-${n.toString(36).padStart(7, '0')}`,
      service: 'z4771793',
      pid: String(1000 + n),
      rtmp: ['19351'],
      http: ['8081'],
      api: ['19851'],
      srt: ['udp://0.0.0.0:10081'],
      rtc: ['udp://0.0.0.0:8001'],
    },
    now,
  );
}

async function fill(b: Balancer): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < ORIGINS; i += FILL_CONCURRENCY) {
    const batch: Promise<boolean>[] = [];
    for (let n = i; n < Math.min(ORIGINS, i + FILL_CONCURRENCY); n++) batch.push(b.update(originRecord(n, now)));
    await Promise.all(batch);
  }
}

interface Row {
  balancer: string;
  origins: number;
  heartbeats: number;
  cmdsPerHb: string;
  commands: string;
  proxyCpuUs: number;
  redisCpuUs: number | undefined;
  wallUs: number;
}

/** Heartbeats from origins spread over the fleet, one at a time (each is its own HTTP request). */
async function measure(name: string, b: Balancer, port: number | undefined): Promise<Row> {
  await fill(b);
  const origins = (await b.listOrigins()).length;
  if (origins !== ORIGINS) throw new Error(`${name}: expected ${ORIGINS} origins, found ${origins}`);
  let seq = 0;
  const beat = () => b.update(originRecord((seq++ * 7919) % ORIGINS, Date.now()));
  for (let i = 0; i < WARMUP; i++) await beat();
  if (port !== undefined) cli(port, 'CONFIG', 'RESETSTAT');
  const redisCpu0 = port === undefined ? 0 : redisCpuSeconds(port);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < HEARTBEATS; i++) await beat();
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  const redisCpu = port === undefined ? undefined : redisCpuSeconds(port) - redisCpu0;
  const calls = port === undefined ? { total: 0, byCommand: {} } : commandCalls(port);
  return {
    balancer: name,
    origins,
    heartbeats: HEARTBEATS,
    cmdsPerHb: (calls.total / HEARTBEATS).toFixed(2),
    commands: Object.entries(calls.byCommand).map(([c, n]) => `${c}×${(n / HEARTBEATS).toFixed(2)}`).join(' ') || '-',
    proxyCpuUs: (cpu.user + cpu.system) / HEARTBEATS,
    redisCpuUs: redisCpu === undefined ? undefined : (redisCpu * 1e6) / HEARTBEATS,
    wallUs: wallNs / 1e3 / HEARTBEATS,
  };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const memory = new MemoryBalancer({});
  await memory.init();
  try {
    rows.push(await measure('memory', memory, undefined));
  } finally {
    await memory.close();
  }

  const redis = await startRedis();
  const rb = new RedisBalancer({ host: '127.0.0.1', port: redis.port, db: 0, keyPrefix: 'bench:' });
  try {
    await rb.init();
    rows.push(await measure('redis', rb, redis.port));
  } finally {
    await rb.close();
    await redis.stop();
  }

  const fmt = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(1));
  const header = ['balancer', 'origins', 'heartbeats', 'redis cmds/hb', 'commands per hb', 'proxy CPU µs/hb', 'redis CPU µs/hb', 'wall µs/hb'];
  const body = rows.map((r) => [r.balancer, String(r.origins), String(r.heartbeats), r.cmdsPerHb, r.commands, fmt(r.proxyCpuUs), fmt(r.redisCpuUs), fmt(r.wallUs)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of body) console.log(line(row));
  const [m, r] = rows;
  if (m && r) console.log(`\nredis / memory proxy CPU per heartbeat: ${(r.proxyCpuUs / m.proxyCpuUs).toFixed(1)}x`);
}

await main();
