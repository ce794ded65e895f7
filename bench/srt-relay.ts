/**
 * SRT relay benchmark: a libsrt publisher (srt-live-transmit fed by a paced UDP source) sends a
 * 10 Mbit/s and a 50 Mbit/s stream to a libsrt origin, directly and through the standalone
 * proxy's SRT edge, across a lossy UDP hop that drops data packets (so NAKs and retransmissions
 * cross the edge too). Prints one table: delivered throughput, RTT and retransmissions for both
 * paths, the edge's datagrams/s and its CPU time per datagram (from /proc of the proxy process).
 * A third path, `bare`, forwards through a child Node process that does nothing but receive and
 * send (one socket each way): the floor any Node UDP relay pays per datagram on this machine.
 *
 *   node --import tsx bench/srt-relay.ts [seconds-per-run]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort, requireBinary, spawnProcess, startProxy, type ProxyHandle, type Spawned } from '../test/support/index.ts';
import { newOriginIdentity } from '../test/support/heartbeat.ts';

const SECONDS = Number(process.argv[2] && !process.argv[2].startsWith('-') ? process.argv[2] : 6);
/** MPEG-TS over SRT: 7 TS packets per datagram, what ffmpeg and OBS send. */
const PAYLOAD = 1316;
const CLK_TCK = 100;
/** The edge flushes its packet counters to /metrics once per second. */
const METRICS_FLUSH_WAIT_MS = 1300;
const SCENARIOS = [
  { mbps: 10, loss: 0 },
  { mbps: 10, loss: 0.02 },
  { mbps: 50, loss: 0 },
  { mbps: 50, loss: 0.02 },
];

type Path = 'direct' | 'bare' | 'proxy';

interface Result {
  path: Path;
  mbps: number;
  loss: number;
  sentPps: number;
  deliveredMbps: number;
  deliveredPct: number;
  relayPps?: number;
  relayUsPerPkt?: number;
  retransmitted: number;
  rttMs: number;
}

/** A UDP hop between caller and target that drops a share of SRT data packets both ways. */
class LossyHop {
  readonly front: Socket = createSocket('udp4');
  readonly back: Socket = createSocket('udp4');
  packets = 0;
  private caller: RemoteInfo | undefined;
  constructor(
    private readonly targetPort: number,
    private readonly loss: number,
  ) {
    this.front.on('message', (m, r) => {
      this.caller = r;
      this.packets++;
      if (this.drop(m)) return;
      this.back.send(m, this.targetPort, '127.0.0.1');
    });
    this.back.on('message', (m) => {
      this.packets++;
      if (!this.caller || this.drop(m)) return;
      this.front.send(m, this.caller.port, this.caller.address);
    });
  }
  private drop(m: Buffer): boolean {
    return this.loss > 0 && (m[0]! & 0x80) === 0 && Math.random() < this.loss;
  }
  async bind(): Promise<number> {
    await new Promise<void>((r) => this.back.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => this.front.bind(0, '127.0.0.1', () => r()));
    for (const s of [this.front, this.back]) {
      s.setRecvBufferSize(4 << 20);
      s.setSendBufferSize(4 << 20);
    }
    return this.front.address().port;
  }
  close(): void {
    this.front.close();
    this.back.close();
  }
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function edgePackets(proxy: ProxyHandle): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${proxy.ports.ops}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^srsp_srt_packets_total\{[^}]*\} (\d+(?:\.\d+)?(?:e\+\d+)?)$/gm)) n += Number(m[1]);
  return n;
}

function callerStats(file: string): { retransmitted: number; rttMs: number } {
  if (!existsSync(file)) return { retransmitted: 0, rttMs: NaN };
  let retransmitted = 0;
  const rtts: number[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const s = JSON.parse(line) as { link: { rtt: number }; send: { packetsRetransmitted: number } };
    retransmitted += s.send.packetsRetransmitted;
    rtts.push(s.link.rtt);
  }
  rtts.sort((a, b) => a - b);
  return { retransmitted, rttMs: rtts.length ? rtts[Math.floor(rtts.length / 2)]! : NaN };
}

/** The `bare` relay: a child process forwarding between one caller and the origin, counting. */
async function startBareRelay(targetPort: number): Promise<{ child: ChildProcess; port: number; packets(): Promise<number> }> {
  const child = fork(new URL(import.meta.url).pathname, ['--bare-relay', String(targetPort)], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
  return {
    child,
    port,
    packets: () =>
      new Promise<number>((resolve) => {
        child.once('message', (m) => resolve(Number(m)));
        child.send('count');
      }),
  };
}

async function bareRelayMain(targetPort: number): Promise<void> {
  const hop = new LossyHop(targetPort, 0);
  const port = await hop.bind();
  process.on('message', () => process.send!(hop.packets));
  process.send!(port);
}

async function run(proxy: ProxyHandle, originPort: number, sink: { bytes: number }, path: Path, mbps: number, loss: number, n: number): Promise<Result> {
  const slt = requireBinary('srt-live-transmit');
  const bare = path === 'bare' ? await startBareRelay(originPort) : undefined;
  const hop = new LossyHop(path === 'proxy' ? proxy.ports.srt : bare ? bare.port : originPort, loss);
  const hopPort = await hop.bind();
  const srcPort = await freeUdpPort();
  const dir = mkdtempSync(join(tmpdir(), 'srsp-bench-'));
  const statsFile = join(dir, 'stats.json');
  const caller: Spawned = spawnProcess(slt, [
    '-a:no', '-q', '-s:1000', '-pf:json', `-statsout:${statsFile}`,
    `udp://127.0.0.1:${srcPort}?rcvbuf=8388608`,
    `srt://127.0.0.1:${hopPort}?streamid=live/bench${n}&latency=200&sndbuf=16777216`,
  ]);
  const src = createSocket('udp4');
  await new Promise<void>((r) => src.bind(0, '127.0.0.1', () => r()));
  src.setSendBufferSize(4 << 20);
  // libsrt connects when the first input arrives; give it a head start before measuring.
  const payload = Buffer.alloc(PAYLOAD, 0x47);
  src.send(payload, srcPort, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 700));

  const pid = bare ? bare.child.pid! : proxy.proc.child.pid!;
  const relayPackets = () => (bare ? bare.packets() : edgePackets(proxy));
  const cpu0 = cpuTicks(pid);
  const pkts0 = await relayPackets();
  const bytes0 = sink.bytes;
  const rate = (mbps * 1e6) / 8 / PAYLOAD;
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= SECONDS) {
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor(elapsed * rate);
      for (; sent < due; sent++) src.send(payload, srcPort, '127.0.0.1');
    }, 2);
  });
  const wall = (performance.now() - t0) / 1000;
  // Let the receiver's latency window (200 ms) and retransmissions drain.
  await new Promise((r) => setTimeout(r, 600));
  const delivered = sink.bytes - bytes0;
  const cpu1 = cpuTicks(pid);
  await new Promise((r) => setTimeout(r, bare ? 0 : METRICS_FLUSH_WAIT_MS));
  const pkts1 = await relayPackets();
  await caller.stop();
  src.close();
  hop.close();
  bare?.child.kill();
  const stats = callerStats(statsFile);
  rmSync(dir, { recursive: true, force: true });
  const relayed = pkts1 - pkts0;
  return {
    path,
    mbps,
    loss,
    sentPps: sent / wall,
    deliveredMbps: (delivered * 8) / wall / 1e6,
    deliveredPct: (100 * delivered) / (sent * PAYLOAD),
    ...(path !== 'direct' ? { relayPps: relayed / wall, relayUsPerPkt: relayed > 0 ? (((cpu1 - cpu0) / CLK_TCK) * 1e6) / relayed : NaN } : {}),
    retransmitted: stats.retransmitted,
    rttMs: stats.rttMs,
  };
}

async function main(): Promise<void> {
  const slt = requireBinary('srt-live-transmit');
  const proxy = await startProxy({ env: { PROXY_LOG_LEVEL: 'warn' } });
  const sink = { bytes: 0 };
  const sinkSock = createSocket('udp4');
  sinkSock.on('message', (m) => (sink.bytes += m.length));
  await new Promise<void>((r) => sinkSock.bind(0, '127.0.0.1', () => r()));
  sinkSock.setRecvBufferSize(8 << 20);
  const originPort = await freeUdpPort();
  // One long-lived origin: it listens again after each caller leaves.
  const origin = spawnProcess(slt, ['-a:yes', '-q', `srt://127.0.0.1:${originPort}?mode=listener&latency=200&rcvbuf=16777216`, `udp://127.0.0.1:${sinkSock.address().port}`]);
  const rtmp = await freeUdpPort();
  const reg = await proxy.register({ ip: '127.0.0.1', ...newOriginIdentity('bench'), rtmp: [String(rtmp)], srt: [`udp://0.0.0.0:${originPort}`] });
  if (reg.status !== 200) throw new Error(`register failed: ${reg.status} ${reg.body}`);
  // srt-live-transmit binds its listener within milliseconds of starting.
  await new Promise((r) => setTimeout(r, 300));

  const results: Result[] = [];
  let n = 0;
  try {
    for (const s of SCENARIOS) {
      for (const path of ['direct', 'bare', 'proxy'] as const) {
        results.push(await run(proxy, originPort, sink, path, s.mbps, s.loss, n++));
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await origin.stop();
    sinkSock.close();
    await proxy.stop();
  }

  const f = (v: number | undefined, d = 1) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));
  console.log(`\nSRT relay, ${SECONDS} s per run, ${PAYLOAD}-byte payloads, loss = share of data packets dropped each way by a hop before the edge\n`);
  console.log('| stream | loss | path | sent pkt/s | delivered Mbit/s | delivered % | retransmitted | RTT ms | relayed pkt/s (both ways) | relay CPU µs/pkt | delivered vs direct | RTT +ms vs direct |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const direct = results.find((d) => d.path === 'direct' && d.mbps === r.mbps && d.loss === r.loss)!;
    const ratio = r.path !== 'direct' ? f(r.deliveredMbps / direct.deliveredMbps, 3) : '';
    const rttDelta = r.path !== 'direct' ? f(r.rttMs - direct.rttMs, 2) : '';
    console.log(
      `| ${r.mbps} Mbit/s | ${(r.loss * 100).toFixed(0)}% | ${r.path} | ${f(r.sentPps, 0)} | ${f(r.deliveredMbps, 2)} | ${f(r.deliveredPct, 1)} | ${r.retransmitted} | ${f(r.rttMs, 2)} | ${f(r.relayPps, 0)} | ${f(r.relayUsPerPkt, 2)} | ${ratio} | ${rttDelta} |`,
    );
  }
}

const entry = process.argv.indexOf('--bare-relay') >= 0 ? bareRelayMain(Number(process.argv[process.argv.indexOf('--bare-relay') + 1])) : main();
entry.catch((err) => {
  console.error(err);
  process.exit(1);
});
