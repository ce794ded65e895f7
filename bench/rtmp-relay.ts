/**
 * RTMP relay benchmark: a raw RTMP publisher blasts pre-chunked video messages as fast as TCP
 * allows into nginx-rtmp, directly and through the standalone proxy's rtmp-edge, with chunk
 * size 128 (ffmpeg's default) and 4096 (OBS). A player leg measures origin → client the same
 * way. Prints throughput  (edge/direct ratio), the proxy's CPU-seconds per GB (from /proc) and
 * the session set-up time (TCP connect → NetStream.Publish.Start) p50/p99 for both paths.
 *
 *   node --import tsx bench/rtmp-relay.ts [MB-per-run] [setup-samples]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, requireBinary, spawnProcess, startProxy, tcpOpen, waitFor, type ProxyHandle } from '../test/support/index.ts';
import { newOriginIdentity } from '../test/support/heartbeat.ts';
import { RawRtmpClient } from '../services/rtmp-edge/test/rtmp-client.ts';
import { ChunkWriter } from '../services/rtmp-edge/src/rtmp/chunk-writer.ts';
import { writeBasicHeader } from '../services/rtmp-edge/src/rtmp/chunk-header.ts';
import { commandMessage } from '../services/rtmp-edge/src/rtmp/messages.ts';

const MB = Number(process.argv[2] ?? 384);
const SETUP_SAMPLES = Number(process.argv[3] ?? 100);
const PLAY_SECONDS = 3;
/** Each path is measured this many times, interleaved; the table shows medians. */
const ROUNDS = 3;
const MESSAGE_SIZE = 64 * 1024;
const CLK_TCK = 100;

/** nginx-rtmp without HLS/DASH, so the origin only relays (the bench measures the edge). */
async function startBenchNginx(): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freeTcpPort();
  const dir = mkdtempSync(join(tmpdir(), 'srsp-bench-rtmp-'));
  writeFileSync(join(dir, 'nginx.conf'), `load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 1024; }
rtmp { server { listen 127.0.0.1:${port}; chunk_size 4096; application live { live on; record off; } } }
`);
  const proc = spawnProcess(requireBinary('nginx'), ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]);
  await waitFor(() => tcpOpen(port), { what: 'bench nginx' });
  return { port, stop: async () => void (await proc.stop('SIGQUIT'), rmSync(dir, { recursive: true, force: true })) };
}

/**
 * Reference: the cheapest relay Node can do, a bare `socket.pipe()` TCP proxy in its own process
 * (no RTMP at all). The edge's CPU per GB is compared against it.
 */
async function startBarePipe(target: number): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const port = await freeTcpPort();
  const code = `const net=require('net');net.createServer(c=>{const o=net.connect(${target},'127.0.0.1');c.setNoDelay(true);o.setNoDelay(true);c.pipe(o);o.pipe(c);c.on('error',()=>o.destroy());o.on('error',()=>c.destroy());c.on('close',()=>o.destroy());o.on('close',()=>c.destroy());}).listen(${port},'127.0.0.1');`;
  const proc = spawnProcess(process.execPath, ['-e', code]);
  await waitFor(() => tcpOpen(port), { what: 'bare pipe' });
  return { port, pid: proc.child.pid!, stop: async () => void (await proc.stop()) };
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * One video message (AVC NALU tag, random body) as it repeats on the wire: a fmt 1 header with a
 * 40 ms delta then fmt 3 continuations, so sending the same block again keeps timestamps rising.
 */
function repeatingBlock(chunkSize: number): Buffer {
  const payload = Buffer.alloc(MESSAGE_SIZE);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 2654435761) >>> 24;
  // Every message a key frame: nginx-rtmp starts a new player only at a key frame.
  payload[0] = 0x17;
  payload[1] = 0x01;
  const parts: Buffer[] = [];
  const h = Buffer.alloc(8);
  let n = writeBasicHeader(h, 0, 1, 6);
  h.writeUIntBE(40, n, 3);
  h.writeUIntBE(MESSAGE_SIZE, n + 3, 3);
  h[n + 6] = 9;
  parts.push(h.subarray(0, n + 7));
  for (let off = 0; off < MESSAGE_SIZE; off += chunkSize) {
    if (off > 0) {
      const c = Buffer.alloc(1);
      writeBasicHeader(c, 0, 3, 6);
      parts.push(c);
    }
    parts.push(payload.subarray(off, off + chunkSize));
  }
  return Buffer.concat(parts);
}

/** Publishes `bytes` as fast as the socket drains; returns seconds from first byte to last flushed. */
async function blast(port: number, name: string, bytes: number, chunkSize: number, stop: () => boolean = () => false): Promise<{ seconds: number; bytes: number }> {
  const c = await RawRtmpClient.open(port);
  const st = await c.publish(`rtmp://127.0.0.1:${port}/live`, name);
  if (st.code !== 'NetStream.Publish.Start') throw new Error(`publish refused: ${st.code} ${st.description}`);
  c.conn.setChunkSize(chunkSize);
  // First message on csid 6 must be fmt 0; the repeating fmt 1 block follows.
  c.send({ csid: 6, timestamp: 0, type: 9, streamId: st.streamId, payload: Buffer.from([0x17, 0x01, 0, 0, 0]) });
  const block = repeatingBlock(chunkSize);
  const batch = Buffer.concat(Array.from({ length: 8 }, () => block));
  const socket = c.conn.socket;
  let sent = 0;
  const t0 = performance.now();
  while (sent < bytes && !stop() && !socket.destroyed) {
    sent += batch.length;
    if (!socket.write(batch)) await new Promise((r) => socket.once('drain', r));
  }
  await new Promise<void>((r) => socket.write(Buffer.alloc(0), () => r()));
  const seconds = (performance.now() - t0) / 1000;
  c.close();
  return { seconds, bytes: sent };
}

/** A publisher blasting directly to the origin while a player (direct or via the edge) counts bytes. */
async function playLeg(originPort: number, playPort: number, name: string): Promise<{ seconds: number; bytes: number }> {
  const player = await RawRtmpClient.open(playPort);
  await player.connect(`rtmp://127.0.0.1:${playPort}/live`);
  const sid = await player.createStream(2);
  player.send(commandMessage('play', 0, null, [name], sid, 8));
  await player.waitCommand((x) => x.name === 'onStatus', 'play status');
  const socket = player.conn.socket;
  player.conn.detach();
  let received = 0;
  socket.on('data', (b: Buffer) => (received += b.length));
  socket.resume();
  let done = false;
  const pub = blast(originPort, name, Number.MAX_SAFE_INTEGER, 4096, () => done).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 500));
  const r0 = received;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, PLAY_SECONDS * 1000));
  const bytes = received - r0;
  const seconds = (performance.now() - t0) / 1000;
  done = true;
  await pub;
  player.close();
  return { seconds, bytes };
}

async function setupTimes(port: number, prefix: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SETUP_SAMPLES; i++) {
    const t0 = performance.now();
    const c = await RawRtmpClient.open(port);
    const st = await c.publish(`rtmp://127.0.0.1:${port}/live`, `${prefix}${i}`);
    out.push(performance.now() - t0);
    if (st.code !== 'NetStream.Publish.Start') throw new Error(st.description);
    c.close();
  }
  return out.sort((a, b) => a - b);
}

const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;

async function main(): Promise<void> {
  const nginx = await startBenchNginx();
  let proxy: ProxyHandle | undefined;
  try {
    proxy = await startProxy({ env: { PROXY_LOG_LEVEL: 'warn' } });
    const reg = await proxy.register({ ip: '127.0.0.1', ...newOriginIdentity('bench'), rtmp: [String(nginx.port)] });
    if (reg.status !== 200) throw new Error(reg.body);
    const pid = proxy.proc.child.pid!;
    const bytes = MB * 1024 * 1024;
    const rows: string[][] = [];
    const bare = await startBarePipe(nginx.port);
    // Warm-up (JIT, first pick, TCP buffers) on every path before anything is measured.
    for (const port of [nginx.port, proxy.ports.rtmp, bare.port]) for (const cs of [128, 4096]) await blast(port, `warm${port}-${cs}`, 64 << 20, cs);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    try {
      for (const chunkSize of [128, 4096]) {
        // Rounds alternate the paths so load from other processes hits all of them alike.
        const d: number[] = [];
        const e: number[] = [];
        const ec: number[] = [];
        const b: number[] = [];
        const bc: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const direct = await blast(nginx.port, `d${chunkSize}-${round}`, bytes, chunkSize);
          d.push(direct.bytes / direct.seconds / 1e6);
          const cpu0 = cpuSeconds(pid);
          const edge = await blast(proxy.ports.rtmp, `e${chunkSize}-${round}`, bytes, chunkSize);
          ec.push((cpuSeconds(pid) - cpu0) / (edge.bytes / 1e9));
          e.push(edge.bytes / edge.seconds / 1e6);
          const bcpu0 = cpuSeconds(bare.pid);
          const piped = await blast(bare.port, `b${chunkSize}-${round}`, bytes, chunkSize);
          bc.push((cpuSeconds(bare.pid) - bcpu0) / (piped.bytes / 1e9));
          b.push(piped.bytes / piped.seconds / 1e6);
        }
        const dm = median(d);
        rows.push([
          `publish, chunk ${chunkSize}`, dm.toFixed(0), median(e).toFixed(0), (median(e) / dm).toFixed(2), median(ec).toFixed(2),
          (median(b) / dm).toFixed(2), median(bc).toFixed(2),
        ]);
      }
    } finally {
      await bare.stop();
    }
    {
      const d: number[] = [];
      const e: number[] = [];
      const ec: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const direct = await playLeg(nginx.port, nginx.port, `pd${round}`);
        d.push(direct.bytes / direct.seconds / 1e6);
        const cpu0 = cpuSeconds(pid);
        const edge = await playLeg(nginx.port, proxy.ports.rtmp, `pe${round}`);
        ec.push((cpuSeconds(pid) - cpu0) / (edge.bytes / 1e9));
        e.push(edge.bytes / edge.seconds / 1e6);
      }
      rows.push(['play, chunk 4096', median(d).toFixed(0), median(e).toFixed(0), (median(e) / median(d)).toFixed(2), median(ec).toFixed(2), '-', '-']);
    }
    const sd = await setupTimes(nginx.port, 'sd');
    const se = await setupTimes(proxy.ports.rtmp, 'se');

    const header = ['scenario', 'direct MB/s', 'edge MB/s', 'edge/direct', 'edge CPU-s/GB', 'bare pipe/direct', 'bare pipe CPU-s/GB'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join(' | ');
    console.log(`RTMP relay, medians of ${ROUNDS} interleaved rounds, ${MB} MB per publish run, ${MESSAGE_SIZE / 1024} KiB video messages, nginx-rtmp origin`);
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
    for (const r of rows) console.log(line(r));
    console.log(`\nsession set-up (connect → Publish.Start), ${SETUP_SAMPLES} sequential sessions`);
    console.log(`  direct: p50 ${pct(sd, 50).toFixed(2)} ms, p99 ${pct(sd, 99).toFixed(2)} ms`);
    console.log(`  edge:   p50 ${pct(se, 50).toFixed(2)} ms, p99 ${pct(se, 99).toFixed(2)} ms`);
    console.log(`  added by the edge: p50 ${(pct(se, 50) - pct(sd, 50)).toFixed(2)} ms, p99 ${(pct(se, 99) - pct(sd, 99)).toFixed(2)} ms`);
  } finally {
    await proxy?.stop();
    await nginx.stop();
  }
}

await main();
process.exit(0);
