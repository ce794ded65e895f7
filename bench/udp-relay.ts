/**
 * Generic UDP relay benchmark: 1200-byte datagrams from a blaster process to a sink, directly
 * and through relays under test, each relay in its own process so its CPU time (from /proc) is
 * its own. Prints one table: datagrams/s delivered at saturation, loss at fixed offered rates
 * (20k and 50k pps by default), and the relay's CPU time per datagram, with ratios to direct.
 *
 * Paths:
 *  - direct: blaster → sink (the floor: kernel + the sink's own receive).
 *  - bare: a child Node process with one socket each way that only receives and sends; what any
 *    Node UDP relay pays per datagram on this machine.
 *  - one row per edge under test (RELAYS below). An edge plugs in with a function that starts it
 *    in front of the sink and returns the port to send to, the datagrams that open a flow (STUN
 *    Binding request for WebRTC), the pid to read CPU from, and a close function.
 *
 *   node --import tsx bench/udp-relay.ts [seconds-per-run] [pps,pps,...]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startProxy, type ProxyHandle } from '../test/support/index.ts';
import { newOriginIdentity } from '../test/support/heartbeat.ts';

const SELF = fileURLToPath(import.meta.url);
const args = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const MODE = args[0] === 'blast' || args[0] === 'bare' ? args[0] : 'main';
/** Length of each run: long enough for thousands of /proc ticks, short enough for a shared box. */
const SECONDS = MODE === 'main' && args[0] ? Number(args[0]) : 3;
const RATES = MODE === 'main' && args[1] ? args[1].split(',').map(Number) : [20_000, 50_000];
const PAYLOAD = 1200;
/** /proc CPU times are in clock ticks (getconf CLK_TCK, 100 on Linux). */
const CLK_TCK = 100;
/** Saturation runs keep this many sends in flight: enough to fill the pipe, bounded memory. */
const MAX_IN_FLIGHT = 64;
/** Kernel socket buffers for blaster, sink and the bare relay (the edge sets its own). */
const SOCKET_BUFFER = 4 << 20;
/** After the blaster stops, wait this long for datagrams still queued in the relay. */
const DRAIN_MS = 300;
/** After the preamble (flow-opening datagrams), wait for the relay to resolve the flow. */
const PREAMBLE_SETTLE_MS = 200;

// ---------------------------------------------------------------------------------------------
// Child modes

/** `blast <port> <pps|0> <seconds> <preamble hex,...>`: sends PAYLOAD-byte RTP-looking datagrams. */
async function blast(): Promise<void> {
  const [, portText, ppsText, secondsText, preambleText = ''] = args;
  const port = Number(portText);
  const pps = Number(ppsText);
  const seconds = Number(secondsText);
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  s.setSendBufferSize(SOCKET_BUFFER);
  for (const hex of preambleText.split(',').filter(Boolean)) s.send(Buffer.from(hex, 'hex'), port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, PREAMBLE_SETTLE_MS));
  const payload = Buffer.alloc(PAYLOAD, 0x5a);
  payload[0] = 0x80;
  payload[1] = 96;
  let sent = 0;
  let inFlight = 0;
  const start = process.hrtime.bigint();
  const elapsedMs = () => Number(process.hrtime.bigint() - start) / 1e6;
  const done = () => inFlight--;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const t = elapsedMs();
      if (t >= seconds * 1000) return resolve();
      const due = pps > 0 ? Math.floor((t / 1000) * pps) : Number.MAX_SAFE_INTEGER;
      while (sent < due && inFlight < MAX_IN_FLIGHT) {
        payload.writeUInt16BE(sent & 0xffff, 2);
        inFlight++;
        sent++;
        s.send(payload, port, '127.0.0.1', done);
      }
      setImmediate(tick);
    };
    tick();
  });
  process.send!({ sent, elapsedMs: elapsedMs() });
  s.close();
  process.disconnect();
}

/** `bare <target port>`: one socket in, one out, nothing else. */
async function bare(): Promise<void> {
  const target = Number(args[1]);
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  let client: { port: number; address: string } | undefined;
  front.on('message', (m, r) => {
    client = r;
    back.send(m, target, '127.0.0.1');
  });
  back.on('message', (m) => {
    if (client) front.send(m, client.port, client.address);
  });
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => back.bind(0, '127.0.0.1', () => r()));
  for (const s of [front, back]) {
    s.setRecvBufferSize(SOCKET_BUFFER);
    s.setSendBufferSize(SOCKET_BUFFER);
  }
  process.send!({ port: front.address().port });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// Relays under test

export interface RelayHandle {
  /** Where the blaster sends. */
  port: number;
  /** Datagrams sent first from the blaster's socket to open its flow (none for plain relays). */
  preamble(): Promise<Buffer[]>;
  /** Process whose CPU time is charged to the relay. */
  pid: number;
  close(): Promise<void>;
}

export interface RelayUnderTest {
  name: string;
  start(sinkPort: number): Promise<RelayHandle>;
}

function forkChild(mode: string, extra: string[]): ChildProcess {
  return fork(SELF, [mode, ...extra], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

const bareRelay: RelayUnderTest = {
  name: 'bare',
  async start(sinkPort) {
    const child = forkChild('bare', [String(sinkPort)]);
    const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve((m as { port: number }).port)));
    return {
      port,
      pid: child.pid!,
      preamble: async () => [],
      close: async () => {
        const exited = new Promise((r) => child.once('exit', r));
        child.disconnect();
        await exited;
      },
    };
  },
};

/**
 * The rtc-edge of the standalone proxy. Opening a flow takes what a WebRTC client does: a WHIP
 * POST through the proxy (answered by a minimal SRS-format API in front of the sink, whose answer
 * names the sink's UDP port), then a STUN Binding request with `<answer ufrag>:<offer ufrag>`.
 */
function rtcEdgeRelay(): RelayUnderTest {
  let proxy: ProxyHandle | undefined;
  let api: Server | undefined;
  let flows = 0;
  return {
    name: 'rtc-edge',
    async start(sinkPort) {
      const answer = (port: number) =>
        ['v=0', 'o=SRS/bench 1 2 IN IP4 0.0.0.0', 's=SRSPublishSession', 't=0 0', 'a=ice-lite', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0',
          'a=ice-ufrag:benchAns', 'a=ice-pwd:benchpasswordbenchpasswordbench1', 'a=setup:passive', 'a=mid:0', 'a=recvonly', 'a=rtcp-mux', 'a=rtpmap:96 H264/90000',
          `a=candidate:0 1 udp 2130706431 127.0.0.1 ${port} typ host generation 0`, ''].join('\r\n');
      api = createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(201, { 'content-type': 'application/sdp', location: '/rtc/v1/whip/?session=bench' }).end(answer(sinkPort)));
      });
      await new Promise<void>((r) => api!.listen(0, '127.0.0.1', () => r()));
      const apiPort = (api.address() as { port: number }).port;
      proxy = await startProxy({ env: { PROXY_LOG_LEVEL: 'warn' } });
      const reg = await proxy.register({ ip: '127.0.0.1', ...newOriginIdentity('bench'), rtmp: ['1'], api: [String(apiPort)], rtc: [`udp://0.0.0.0:${sinkPort}`] });
      if (reg.status !== 200) throw new Error(`register failed: ${reg.body}`);
      const p = proxy;
      return {
        port: p.ports.webrtc,
        pid: p.proc.child.pid!,
        async preamble() {
          const offerUfrag = `bo${++flows}`;
          const offer = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', `a=ice-ufrag:${offerUfrag}`, 'a=ice-pwd:offerpasswordofferpassword', ''].join('\r\n');
          const r = await fetch(`http://127.0.0.1:${p.ports.api}/rtc/v1/whip/?app=bench&stream=s${flows}`, { method: 'POST', body: offer });
          await r.text();
          if (r.status !== 201) throw new Error(`WHIP through the proxy failed: ${r.status}`);
          return [stunBindingRequest(`benchAns:${offerUfrag}`)];
        },
        close: async () => {
          await p.stop();
          await new Promise((r) => api!.close(r));
        },
      };
    },
  };
}

/** Each edge benchmarked here; another edge adds its own function returning a RelayUnderTest. */
const RELAYS: RelayUnderTest[] = [bareRelay, rtcEdgeRelay()];

function stunBindingRequest(username: string): Buffer {
  const u = Buffer.from(username);
  const padded = (u.length + 3) & ~3;
  const b = Buffer.alloc(20 + 4 + padded);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt16BE(4 + padded, 2);
  b.writeUInt32BE(0x2112a442, 4);
  for (let i = 8; i < 20; i++) b[i] = (Math.random() * 256) | 0;
  b.writeUInt16BE(0x0006, 20);
  b.writeUInt16BE(u.length, 22);
  u.copy(b, 24);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Orchestration

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15 of stat)
}

class Sink {
  readonly socket: Socket = createSocket('udp4');
  count = 0;
  async bind(): Promise<number> {
    this.socket.on('message', (m) => {
      if (m[0] === 0x80) this.count++;
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
    this.socket.setRecvBufferSize(SOCKET_BUFFER);
    return this.socket.address().port;
  }
  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

interface Row {
  path: string;
  offered: string;
  sent: number;
  delivered: number;
  pps: number;
  lossPct: number;
  usPerDgram: number | undefined;
}

async function run(path: string, port: number, pps: number, sink: Sink, preamble: Buffer[], pid: number | undefined): Promise<Row> {
  const before = sink.count;
  const cpu0 = pid ? cpuTicks(pid) : 0;
  const child = forkChild('blast', [String(port), String(pps), String(SECONDS), preamble.map((b) => b.toString('hex')).join(',')]);
  const exited = new Promise((r) => child.once('exit', r));
  const result = await new Promise<{ sent: number; elapsedMs: number }>((resolve) => child.once('message', (m) => resolve(m as { sent: number; elapsedMs: number })));
  await new Promise((r) => setTimeout(r, DRAIN_MS));
  const cpu1 = pid ? cpuTicks(pid) : 0;
  await exited;
  const delivered = sink.count - before;
  process.stderr.write(`  ${path} ${pps || 'max'}: sent ${result.sent}, delivered ${delivered}\n`);
  const relayed = Math.max(1, delivered);
  return {
    path,
    offered: pps > 0 ? `${pps / 1000}k pps` : 'max',
    sent: result.sent,
    delivered,
    pps: Math.round(delivered / (result.elapsedMs / 1000)),
    lossPct: (1 - delivered / result.sent) * 100,
    usPerDgram: pid ? (((cpu1 - cpu0) / CLK_TCK) * 1e6) / relayed : undefined,
  };
}

async function main(): Promise<void> {
  const sink = new Sink();
  const sinkPort = await sink.bind();
  const rows: Row[] = [];
  const offered = [0, ...RATES];
  for (const pps of offered) rows.push(await run('direct', sinkPort, pps, sink, [], undefined));
  for (const relay of RELAYS) {
    const h = await relay.start(sinkPort);
    try {
      for (const pps of offered) rows.push(await run(relay.name, h.port, pps, sink, await h.preamble(), h.pid));
    } finally {
      await h.close();
    }
  }
  await sink.close();

  const direct = new Map(rows.filter((r) => r.path === 'direct').map((r) => [r.offered, r]));
  console.log(`UDP relay, ${PAYLOAD}-byte datagrams, ${SECONDS} s per run, 127.0.0.1 (CPU from /proc of the relay process)`);
  const header = ['path', 'offered', 'sent', 'delivered', 'delivered/s', 'loss %', 'vs direct', 'relay CPU µs/dgram'];
  const lines = rows.map((r) => {
    const d = direct.get(r.offered)!;
    return [
      r.path, r.offered, String(r.sent), String(r.delivered), String(r.pps), r.lossPct.toFixed(2),
      r.path === 'direct' ? '1.00' : (r.pps / d.pps).toFixed(2),
      r.usPerDgram === undefined ? '-' : r.usPerDgram.toFixed(1),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cols: string[]) => cols.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  const edge = rows.filter((r) => r.path === 'rtc-edge' && r.offered !== 'max');
  const worst = Math.max(...edge.map((r) => r.usPerDgram ?? 0));
  console.log(`rtc-edge CPU per datagram at fixed rates: worst ${worst.toFixed(1)} µs (target ≤ 15 µs)`);
}

if (MODE === 'blast') await blast();
else if (MODE === 'bare') await bare();
else await main();
