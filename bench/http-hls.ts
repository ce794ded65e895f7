// http-edge throughput and cost, proxy vs direct in one run:
//   * HLS playlist and segment requests/s and p99 latency (autocannon) through the standalone
//     proxy's HTTP port vs straight from an nginx origin serving the same files;
//   * HTTP-FLV time to first byte through the proxy vs straight from a node-media-server origin;
//   * proxy CPU per player with 100 concurrent HTTP-FLV players (origin CPU for the same players
//     direct, for scale).
// Spawns its own nginx, node-media-server, ffmpeg publisher and proxy process. Prints one table.
//
//   node --import tsx bench/http-hls.ts
import { setMaxListeners } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { startNginxOrigin, startProxy, requireBinary, spawnProcess, waitFor } from '@srs-proxy/test';
import { startNmsOrigin } from '../test/support/nms-origin.ts';

/** The part of autocannon's API used here (the package ships no type declarations). */
type Autocannon = (opts: { url: string; connections: number; duration: number; pipelining: number }) => Promise<{
  requests: { average: number };
  latency: { p99: number };
  errors: number;
  non2xx: number;
  timeouts: number;
}>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** Seconds per autocannon run: thousands of requests, so p99 is stable; bounded total time. */
const RUN_SECONDS = 3;
/** Direct and proxied runs alternate this many times; the median run is reported (other work shares the cores). */
const ROUNDS = 3;
/** Unmeasured seconds first (JIT, keep-alive pools, the edge's session caches). */
const WARMUP_SECONDS = 1;
/** Concurrent keep-alive connections of the load generator, like a busy edge's players. */
const CONNECTIONS = 32;
/** One HLS segment: ~1.5 s of 1 Mbps video. */
const SEGMENT_BYTES = 188 * 1000;
const SEGMENTS = 6;
/** Sequential FLV requests per side for time-to-first-byte, after as many unmeasured ones (JIT). */
const TTFB_SAMPLES = 200;
/** Concurrent FLV players for the CPU figure (from the issue). */
const PLAYERS = 100;
/** Seconds of steady playback over which CPU is measured. */
const CPU_SECONDS = 10;
/** Linux clock ticks per second for /proc/<pid>/stat utime/stime. */
const CLK_TCK = 100;

interface Load { rps: number; p99: number; errors: number }

async function load(url: string, seconds: number): Promise<Load> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts };
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function median<T>(runs: T[], by: (t: T) => number): T {
  return [...runs].sort((x, y) => by(x) - by(y))[Math.floor(runs.length / 2)]!;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function ttfb(url: string): Promise<number> {
  const t0 = performance.now();
  const r = await request(url);
  for await (const _chunk of r.body) break;
  return performance.now() - t0;
}

/** Opens `n` FLV players reading and discarding; returns a closer. */
async function players(url: string, n: number): Promise<{ bytes(): number; close(): Promise<void> }> {
  const agent = new Agent({ connections: null });
  const ac = new AbortController();
  // One signal ends every player; each request listens on it.
  setMaxListeners(n + 10, ac.signal);
  let bytes = 0;
  const running = await Promise.all(
    Array.from({ length: n }, async () => {
      const r = await request(url, { dispatcher: agent, signal: ac.signal });
      if (r.statusCode !== 200) throw new Error(`player got ${r.statusCode}`);
      r.body.on('data', (c: Buffer) => (bytes += c.length));
      r.body.on('error', () => {});
      return r;
    }),
  );
  return {
    bytes: () => bytes,
    async close() {
      ac.abort();
      for (const r of running) r.body.destroy();
      await agent.destroy();
    },
  };
}

async function cpuWhilePlaying(url: string, pids: number[]): Promise<{ cpu: number[]; mbps: number }> {
  const p = await players(url, PLAYERS);
  await new Promise((r) => setTimeout(r, 2_000));
  const before = pids.map(cpuTicks);
  const bytes0 = p.bytes();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, CPU_SECONDS * 1000));
  const secs = (performance.now() - t0) / 1000;
  const cpu = pids.map((pid, i) => ((cpuTicks(pid) - before[i]!) / CLK_TCK / secs) * 100);
  const mbps = ((p.bytes() - bytes0) * 8) / secs / 1e6;
  await p.close();
  return { cpu, mbps };
}

const rows: Array<[string, string, string, string]> = [];
const fmt = (n: number, d = 0) => n.toFixed(d);

requireBinary('ffmpeg');

/** HLS through a proxy that knows only the nginx origin. */
async function hlsSection(): Promise<void> {
  const nginx = await startNginxOrigin();
  const proxy = await startProxy({ env: { PROXY_LOG_LEVEL: 'warn' } });
  try {
    // Fixed files on nginx, so both sides serve identical bytes.
    mkdirSync(join(nginx.dir, 'bench'));
    let playlist = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n';
    for (let i = 0; i < SEGMENTS; i++) {
      const seg = Buffer.alloc(SEGMENT_BYTES, i);
      for (let off = 0; off < SEGMENT_BYTES; off += 188) seg[off] = 0x47;
      writeFileSync(join(nginx.dir, 'bench', `b-${i}.ts`), seg);
      playlist += `#EXTINF:1.500,\nb-${i}.ts\n`;
    }
    writeFileSync(join(nginx.dir, 'bench', 'b.m3u8'), playlist);
    const reg = await proxy.register(nginx.heartbeatBody());
    if (reg.status !== 200) throw new Error(`register nginx: ${reg.body}`);
    const direct = `http://127.0.0.1:${nginx.httpPort}/bench`;
    const edge = `http://127.0.0.1:${proxy.ports.http}/bench`;
    const tagged = await (await request(`${edge}/b.m3u8`)).body.text();
    const id = /spbhid=([0-9a-f]+)/.exec(tagged)?.[1];
    if (!id) throw new Error(`edge playlist not tagged:\n${tagged}`);

    for (const [name, d, e] of [
      ['HLS playlist', `${direct}/b.m3u8`, `${edge}/b.m3u8`],
      ['HLS segment (188 KB)', `${direct}/b-3.ts`, `${edge}/b-3.ts?spbhid=${id}`],
    ] as const) {
      await load(d, WARMUP_SECONDS);
      await load(e, WARMUP_SECONDS);
      const ds: Load[] = [];
      const es: Load[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        ds.push(await load(d, RUN_SECONDS));
        es.push(await load(e, RUN_SECONDS));
      }
      const a = median(ds, (x) => x.rps);
      const b = median(es, (x) => x.rps);
      const errors = [...ds, ...es].reduce((n, x) => n + x.errors, 0);
      if (errors > 0) console.error(`${name}: ${errors} failed requests`);
      rows.push([`${name} req/s`, fmt(a.rps), fmt(b.rps), `${fmt(b.rps / a.rps, 2)}x`]);
      rows.push([`${name} p99 ms`, fmt(a.p99, 1), fmt(b.p99, 1), `${fmt(b.p99 / Math.max(a.p99, 0.001), 2)}x`]);
    }
  } finally {
    await proxy.stop();
    await nginx.stop();
  }
}

/** HTTP-FLV through a proxy that knows only the node-media-server origin. */
async function flvSection(): Promise<void> {
  const nms = await startNmsOrigin();
  const proxy = await startProxy({ env: { PROXY_LOG_LEVEL: 'warn' } });
  const publisher = spawnProcess('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-b:v', '800k', '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${nms.rtmpPort}/live/bench`,
  ]);
  try {
    const reg = await proxy.register(nms.heartbeatBody());
    if (reg.status !== 200) throw new Error(`register nms: ${reg.body}`);
    await waitFor(() => nms.events().some((e) => e.event === 'postPublish' && e.path === '/live/bench'), { timeoutMs: 15_000, what: 'publish' });
    const flvDirect = `http://127.0.0.1:${nms.httpPort}/live/bench.flv`;
    const flvEdge = `http://127.0.0.1:${proxy.ports.http}/live/bench.flv`;
    const td: number[] = [];
    const te: number[] = [];
    for (let i = 0; i < 2 * TTFB_SAMPLES; i++) {
      const a = await ttfb(flvDirect);
      const b = await ttfb(flvEdge);
      if (i < TTFB_SAMPLES) continue;
      td.push(a);
      te.push(b);
    }
    td.sort((x, y) => x - y);
    te.sort((x, y) => x - y);
    rows.push(['FLV first byte p50 ms', fmt(quantile(td, 0.5), 2), fmt(quantile(te, 0.5), 2), `+${fmt(quantile(te, 0.5) - quantile(td, 0.5), 2)} ms`]);
    rows.push(['FLV first byte p90 ms', fmt(quantile(td, 0.9), 2), fmt(quantile(te, 0.9), 2), `+${fmt(quantile(te, 0.9) - quantile(td, 0.9), 2)} ms`]);

    const proxyPid = proxy.proc.child.pid!;
    const nmsPid = nms.proc.child.pid!;
    const viaDirect = await cpuWhilePlaying(flvDirect, [nmsPid]);
    const viaEdge = await cpuWhilePlaying(flvEdge, [proxyPid, nmsPid]);
    rows.push([`FLV ${PLAYERS} players Mbit/s delivered`, fmt(viaDirect.mbps, 1), fmt(viaEdge.mbps, 1), `${fmt(viaEdge.mbps / viaDirect.mbps, 2)}x`]);
    rows.push([`FLV ${PLAYERS} players origin CPU %`, fmt(viaDirect.cpu[0]!, 1), fmt(viaEdge.cpu[1]!, 1), '']);
    rows.push(['FLV proxy CPU % (total / per player)', '-', `${fmt(viaEdge.cpu[0]!, 1)} / ${fmt(viaEdge.cpu[0]! / PLAYERS, 3)}`, '']);
  } finally {
    await publisher.stop('SIGKILL');
    await proxy.stop();
    await nms.stop();
  }
}

await hlsSection();
await flvSection();

const header: [string, string, string, string] = ['metric', 'direct', 'via proxy', 'proxy/direct'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
console.log(`\n(HLS: ${CONNECTIONS} keep-alive connections, median of ${ROUNDS} alternating ${RUN_SECONDS} s runs per side; FLV: ${TTFB_SAMPLES} sequential requests per side after as many unmeasured, ${PLAYERS} players for ${CPU_SECONDS} s. The load generator shares the machine's cores with both servers: compare ratios, not absolutes.)`);
