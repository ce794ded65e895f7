// http-edge throughput and cost, proxy vs direct in one run:
//   * HLS playlist and segment requests/s and latency (wrk, a C load generator, so the load
//     generator does not take the servers' CPU the way a Node one would) straight from an nginx
//     origin; two calibration rows, the most Node itself can do: a bare Node `http` → undici
//     pass-through (no proxy logic; compare the edge with its caches off, every request reaching
//     the origin) and a bare Node `http` server answering the same files from memory (compare
//     the edge with its default caches, many players on the same live segments);
//   * HTTP-FLV time to first byte straight from a node-media-server origin, through the
//     pass-through and through the edge;
//   * proxy CPU per player with 100 concurrent HTTP-FLV players (origin CPU for scale).
// Spawns its own nginx, node-media-server, ffmpeg publisher, pass-through and proxy processes.
// Nothing is pinned: every process competes for the same cores, as in a real deployment.
//
//   node --import tsx bench/http-hls.ts [hls] [flv]      (both sections by default)
//
// Run with `--passthrough <originPort> <listenPort>` or `--memory <dir> <listenPort>` it is one
// of the calibration servers itself.
import { setMaxListeners } from 'node:events';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { startNginxOrigin, startProxy, requireBinary, spawnProcess, waitFor, freeTcpPort, type ProxyHandle, type Spawned } from '@srs-proxy/test';
import { startNmsOrigin } from '../test/support/nms-origin.ts';

/** Seconds per wrk run: tens of thousands of requests, so p99 is stable; bounded total time. */
const RUN_SECONDS = 3;
/** The sides alternate this many times; the median run is reported (other work shares the cores). */
const ROUNDS = 5;
/** Unmeasured seconds per side first (JIT, keep-alive pools, the edge's session caches). */
const WARMUP_SECONDS = 1;
/** Concurrent keep-alive connections of the load generator, like a busy edge's players. */
const CONNECTIONS = 32;
/** One wrk thread: the load generator stays on (at most) one core, leaving the other to the servers. */
const WRK_THREADS = 1;
/** One HLS segment: ~1.5 s of 1 Mbps video. */
const SEGMENT_BYTES = 188 * 1000;
const SEGMENTS = 6;
/** Sequential FLV requests per side for time-to-first-byte. */
const TTFB_SAMPLES = 200;
/**
 * Unmeasured FLV requests per side first: an edge in service has run its request path many
 * thousands of times; with only a few hundred, V8 has not optimised all of it yet and the figure
 * measures JIT warm-up (about +0.3 ms here) rather than the steady state.
 */
const TTFB_WARMUP = 1_000;
/**
 * Pause before each first-byte sample: lets the previous player's teardown (at the origin too)
 * finish, so no side is measured while the origin is still closing the side before it.
 */
const TTFB_GAP_MS = 5;
/** Concurrent FLV players for the CPU figure (from the issue). */
const PLAYERS = 100;
/** Seconds of steady playback over which CPU is measured. */
const CPU_SECONDS = 10;
/** Linux clock ticks per second for /proc/<pid>/stat utime/stime. */
const CLK_TCK = 100;
/** Keep-alive of the pass-through towards the origin: below nginx's and NMS's idle timeouts. */
const PASSTHROUGH_KEEPALIVE_MS = 4_000;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection']);

/** The calibration server: every request forwarded to the origin with undici, body streamed back. */
function runPassthrough(originPort: number, listenPort: number): void {
  const agent = new Agent({ keepAliveTimeout: PASSTHROUGH_KEEPALIVE_MS, connections: null });
  const origin = `http://127.0.0.1:${originPort}`;
  createServer({ noDelay: true }, (req, res) => {
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    const ac = new AbortController();
    agent
      .stream({ origin, path: req.url ?? '/', method: 'GET', signal: ac.signal, opaque: res }, ({ statusCode, headers }) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
        res.writeHead(statusCode, out);
        return res;
      })
      .catch(() => res.destroy());
  }).listen(listenPort, '127.0.0.1', () => console.log('calibration ready'));
}

/** The other calibration server: the files of `dir` answered from memory, as a cache hit at best could. */
function runMemory(dir: string, listenPort: number): void {
  const types: Record<string, string> = { '.m3u8': 'application/vnd.apple.mpegurl', '.ts': 'video/mp2t' };
  const files = new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
  createServer({ noDelay: true }, (req, res) => {
    const name = basename((req.url ?? '/').split('?')[0]!);
    const body = files.get(name);
    if (!body) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': types[extname(name)] ?? 'application/octet-stream', 'content-length': body.length }).end(body);
  }).listen(listenPort, '127.0.0.1', () => console.log('calibration ready'));
}

async function startCalibration(mode: '--passthrough' | '--memory', arg: string): Promise<{ port: number; proc: Spawned }> {
  const port = await freeTcpPort();
  const proc = spawnProcess(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), mode, arg, String(port)]);
  await waitFor(() => proc.output().includes('calibration ready'), { timeoutMs: 20_000, what: `calibration server ${mode}` });
  return { port, proc };
}

interface Load { rps: number; p50: number; p99: number; errors: number; requests: number; cpuUsPerRequest: number }

/** wrk's latency figures carry a unit (`us`, `ms`, `s`); milliseconds out. */
function ms(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`unparsable wrk latency "${text}"`);
  const scale = { us: 1e-3, ms: 1, s: 1e3, m: 6e4 }[m[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(m[1]) * scale;
}

function parseWrk(out: string): Load {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  if (!rps || !p50 || !p99) throw new Error(`unparsable wrk output:\n${out}`);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const sockErrors = sock ? sock.slice(1).reduce((n, x) => n + Number(x), 0) : 0;
  return { rps: Number(rps[1]), p50: ms(p50[1]!), p99: ms(p99[1]!), errors: non2xx + sockErrors, requests, cpuUsPerRequest: NaN };
}

/** One wrk run; `pid` is the server answering it, whose CPU time per request is reported. */
function wrk(url: string, seconds: number, pid: number): Promise<Load> {
  const ticks0 = cpuTicks(pid);
  return new Promise((resolve, reject) => {
    execFile('wrk', [`-t${WRK_THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', url], (err, stdout, stderr) => {
      if (err) reject(new Error(`wrk failed: ${err.message}\n${stderr}`));
      else {
        try {
          const load = parseWrk(stdout);
          load.cpuUsPerRequest = ((cpuTicks(pid) - ticks0) / CLK_TCK / load.requests) * 1e6;
          resolve(load);
        } catch (e) {
          reject(e);
        }
      }
    });
  });
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

type Row = [workload: string, side: string, rps: string, p50: string, p99: string, cpu: string, ratio: string];
const rows: Row[] = [];
const ttfbRows: Array<[string, string, string, string]> = [];
const cpuRows: Array<[string, string, string, string]> = [];
const fmt = (n: number, d = 0) => n.toFixed(d);

/** Edge settings of the "caches off" side: every request reaches the origin. */
const CACHES_OFF = { PROXY_HLS_SEGMENT_CACHE_BYTES: '0', PROXY_HLS_PLAYLIST_CACHE_TTL: '0' };

/** HLS through proxies that know only the nginx origin. */
async function hlsSection(): Promise<void> {
  const nginx = await startNginxOrigin();
  const pass = await startCalibration('--passthrough', String(nginx.httpPort));
  const started: ProxyHandle[] = [];
  let mem: { port: number; proc: Spawned } | undefined;
  try {
    const cold = await startProxy({ env: { PROXY_LOG_LEVEL: 'warn', ...CACHES_OFF } });
    started.push(cold);
    const warm = await startProxy({ env: { PROXY_LOG_LEVEL: 'warn' } });
    started.push(warm);
    // Fixed files on nginx, so every side serves identical bytes.
    mkdirSync(join(nginx.dir, 'bench'));
    let playlist = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n';
    for (let i = 0; i < SEGMENTS; i++) {
      const seg = Buffer.alloc(SEGMENT_BYTES, i);
      for (let off = 0; off < SEGMENT_BYTES; off += 188) seg[off] = 0x47;
      writeFileSync(join(nginx.dir, 'bench', `b-${i}.ts`), seg);
      playlist += `#EXTINF:1.500,\nb-${i}.ts\n`;
    }
    writeFileSync(join(nginx.dir, 'bench', 'b.m3u8'), playlist);
    mem = await startCalibration('--memory', join(nginx.dir, 'bench'));
    const ids: string[] = [];
    for (const proxy of [cold, warm]) {
      const reg = await proxy.register(nginx.heartbeatBody());
      if (reg.status !== 200) throw new Error(`register nginx: ${reg.body}`);
      const tagged = await (await request(`http://127.0.0.1:${proxy.ports.http}/bench/b.m3u8`)).body.text();
      const id = /spbhid=([0-9a-f]+)/.exec(tagged)?.[1];
      if (!id) throw new Error(`edge playlist not tagged:\n${tagged}`);
      ids.push(id);
    }
    const base = (port: number) => `http://127.0.0.1:${port}/bench`;
    const sides = (file: string, query: (i: number) => string) => [
      ['direct (nginx)', `${base(nginx.httpPort)}/${file}`, nginx.proc.child.pid!],
      ['node pass-through', `${base(pass.port)}/${file}`, pass.proc.child.pid!],
      ['edge, caches off', `${base(cold.ports.http)}/${file}${query(0)}`, cold.proc.child.pid!],
      ['node from memory', `${base(mem!.port)}/${file}`, mem!.proc.child.pid!],
      ['edge, caches on', `${base(warm.ports.http)}/${file}${query(1)}`, warm.proc.child.pid!],
    ] as const;

    for (const [name, urls] of [
      ['HLS playlist', sides('b.m3u8', () => '')],
      [`HLS segment ${SEGMENT_BYTES / 1000} KB, all players same`, sides('b-3.ts', (i) => `?spbhid=${ids[i]}`)],
    ] as const) {
      for (const [, url, pid] of urls) await wrk(url, WARMUP_SECONDS, pid);
      const runs: Load[][] = urls.map(() => []);
      for (let round = 0; round < ROUNDS; round++) {
        for (let s = 0; s < urls.length; s++) runs[s]!.push(await wrk(urls[s]![1], RUN_SECONDS, urls[s]![2]));
      }
      const direct = median(runs[0]!, (x) => x.rps);
      urls.forEach(([side], s) => {
        const m = median(runs[s]!, (x) => x.rps);
        const errors = runs[s]!.reduce((n, x) => n + x.errors, 0);
        if (errors > 0) console.error(`${name} / ${side}: ${errors} failed requests`);
        const cpu = median(runs[s]!, (x) => x.cpuUsPerRequest).cpuUsPerRequest;
        rows.push([s === 0 ? name : '', side, fmt(m.rps), fmt(m.p50, 2), fmt(m.p99, 2), fmt(cpu), s === 0 ? '1.00x' : `${fmt(m.rps / direct.rps, 2)}x`]);
      });
    }
  } finally {
    for (const p of started) await p.stop();
    await mem?.proc.stop();
    await pass.proc.stop();
    await nginx.stop();
  }
}

/** HTTP-FLV through a proxy that knows only the node-media-server origin. */
async function flvSection(): Promise<void> {
  const nms = await startNmsOrigin();
  const pass = await startCalibration('--passthrough', String(nms.httpPort));
  const proxy = await startProxy({ env: { PROXY_LOG_LEVEL: 'warn' } });
  const publisher = spawnProcess('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-b:v', '800k', '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${nms.rtmpPort}/live/bench`,
  ]);
  try {
    const reg = await proxy.register(nms.heartbeatBody());
    if (reg.status !== 200) throw new Error(`register nms: ${reg.body}`);
    await waitFor(() => nms.events().some((e) => e.event === 'postPublish' && e.path === '/live/bench'), { timeoutMs: 15_000, what: 'publish' });
    const urls = [
      `http://127.0.0.1:${nms.httpPort}/live/bench.flv`,
      `http://127.0.0.1:${pass.port}/live/bench.flv`,
      `http://127.0.0.1:${proxy.ports.http}/live/bench.flv`,
    ];
    const samples: number[][] = urls.map(() => []);
    for (let i = 0; i < TTFB_WARMUP + TTFB_SAMPLES; i++) {
      // The order rotates each round, so no side always follows the same other one.
      for (let j = 0; j < urls.length; j++) {
        const s = (i + j) % urls.length;
        await new Promise((r) => setTimeout(r, TTFB_GAP_MS));
        const t = await ttfb(urls[s]!);
        if (i >= TTFB_WARMUP) samples[s]!.push(t);
      }
    }
    for (const s of samples) s.sort((x, y) => x - y);
    for (const q of [0.5, 0.9]) {
      const d = quantile(samples[0]!, q);
      const p = quantile(samples[1]!, q);
      const e = quantile(samples[2]!, q);
      ttfbRows.push([`FLV first byte p${q * 100} ms`, fmt(d, 2), `${fmt(p, 2)} (+${fmt(p - d, 2)})`, `${fmt(e, 2)} (+${fmt(e - d, 2)})`]);
    }

    const proxyPid = proxy.proc.child.pid!;
    const nmsPid = nms.proc.child.pid!;
    const viaDirect = await cpuWhilePlaying(urls[0]!, [nmsPid]);
    const viaEdge = await cpuWhilePlaying(urls[2]!, [proxyPid, nmsPid]);
    cpuRows.push([`FLV ${PLAYERS} players Mbit/s delivered`, fmt(viaDirect.mbps, 1), fmt(viaEdge.mbps, 1), `${fmt(viaEdge.mbps / viaDirect.mbps, 2)}x`]);
    cpuRows.push([`FLV ${PLAYERS} players origin CPU %`, fmt(viaDirect.cpu[0]!, 1), fmt(viaEdge.cpu[1]!, 1), '']);
    cpuRows.push(['FLV proxy CPU % (total / per player)', '-', `${fmt(viaEdge.cpu[0]!, 1)} / ${fmt(viaEdge.cpu[0]! / PLAYERS, 3)}`, '']);
  } finally {
    await publisher.stop('SIGKILL');
    await proxy.stop();
    await pass.proc.stop();
    await nms.stop();
  }
}

function table(header: readonly string[], body: ReadonlyArray<readonly string[]>): void {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of body) console.log(line(r));
  console.log('');
}

async function main(sections: string[]): Promise<void> {
  requireBinary('ffmpeg');
  requireBinary('wrk');
  const load0 = (await import('node:os')).loadavg()[0]!;
  if (sections.length === 0 || sections.includes('hls')) await hlsSection();
  if (sections.length === 0 || sections.includes('flv')) await flvSection();
  if (rows.length > 0) table(['workload', 'side', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'req/s vs direct'], rows);
  if (ttfbRows.length > 0) table(['metric', 'direct (NMS)', 'node pass-through', 'edge'], ttfbRows);
  if (cpuRows.length > 0) table(['metric', 'direct', 'via edge', 'edge/direct'], cpuRows);
  console.log(
    `(HLS: wrk -t${WRK_THREADS} -c${CONNECTIONS}, median of ${ROUNDS} rotating ${RUN_SECONDS} s runs per side; "caches on" serves repeat ` +
      `requests for the same segment/playlist from the edge's memory, "caches off" sends every request to the origin; the two "node" ` +
      'rows are bare Node servers without proxy logic: "node pass-through" is the ceiling for "edge, caches off", "node from memory" ' +
      'for "edge, caches on". Server CPU is the ' +
      'answering process only (user + system; the origin behind a proxy is extra), the figure least disturbed by other load. ' +
      `FLV: ${TTFB_SAMPLES} sequential requests per side in rotating order, ${TTFB_GAP_MS} ms apart, after ${TTFB_WARMUP} unmeasured; ` +
      `${PLAYERS} players for ${CPU_SECONDS} s. Load average at start ${load0.toFixed(2)} on a machine shared with other work: compare within this run.)`,
  );
}

const argv = process.argv.slice(2);
if (argv[0] === '--passthrough') runPassthrough(Number(argv[1]), Number(argv[2]));
else if (argv[0] === '--memory') runMemory(argv[1]!, Number(argv[2]));
else await main(argv);
