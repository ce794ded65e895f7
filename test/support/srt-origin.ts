import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBalancer, DEFAULT_BALANCER_OPTIONS, type Balancer } from '@srs-proxy/balancer';
import { BusRegistryClient, InprocTransport, type RegistryClient } from '@srs-proxy/bus';
import { RegistryService, registrySchema } from '@srs-proxy/registry';
import { createLogger, createMetricsRegistry, readConfig, type Logger, type Registry } from '@srs-proxy/runtime';
import { SrtEdge, srtEdgeSchema, type SrtEdgeOptions } from '@srs-proxy/srt-edge';
import { freeTcpPort, freeUdpPort } from './ports.ts';
import { requireBinary, spawnProcess, type Spawned } from './process.ts';
import { newOriginIdentity, type HeartbeatBody } from './heartbeat.ts';

/** Bounded wait for a process to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 3000;

function body(srtPort: number, rtmpPort: number, label: string): HeartbeatBody {
  // `rtmp` is mandatory in a heartbeat; SRT-only test origins name a port nothing listens on.
  return { ip: '127.0.0.1', ...newOriginIdentity(label), rtmp: [String(rtmpPort)], srt: [`udp://0.0.0.0:${srtPort}`] };
}

export interface SrtOrigin {
  srtPort: number;
  /** An SRS-style heartbeat body registering this origin's SRT port (`udp://0.0.0.0:<port>`). */
  heartbeatBody(): HeartbeatBody;
  stop(): Promise<void>;
}

export interface SrtReceiverOrigin extends SrtOrigin {
  /** The MPEG-TS bytes received so far are written here. */
  file: string;
  bytes(): number;
  proc: ChildProcess;
  /** Resolves with the exit code once the receiver ends (the caller disconnected). */
  exited: Promise<number | null>;
  stderr(): string;
}

/**
 * An SRT origin that receives a published stream: `srt-live-transmit` in listener mode writing
 * the caller's MPEG-TS to a file (what SRS does with `m=publish`, minus the remuxing). By default
 * it serves one caller and exits when that caller leaves (which flushes the file); with
 * `reconnect` it listens again for the next caller, like a long-running origin.
 */
export async function startSrtReceiverOrigin(opts: { reconnect?: boolean; passphrase?: string } = {}): Promise<SrtReceiverOrigin> {
  const bin = requireBinary('srt-live-transmit');
  const srtPort = await freeUdpPort();
  const rtmpPort = await freeTcpPort();
  const dir = mkdtempSync(join(tmpdir(), 'srsp-srt-origin-'));
  const file = join(dir, 'received.ts');
  const fd = openSync(file, 'w');
  const secret = opts.passphrase ? `&passphrase=${encodeURIComponent(opts.passphrase)}` : '';
  const proc = spawn(bin, [`-a:${opts.reconnect ? 'yes' : 'no'}`, '-q', '-ll:error', `srt://127.0.0.1:${srtPort}?mode=listener${secret}`, 'file://con'], {
    stdio: ['ignore', fd, 'pipe'],
  });
  closeSync(fd);
  let err = '';
  proc.stderr?.on('data', (b: Buffer) => {
    if (err.length < 65536) err += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.once('error', () => resolve(null));
  });
  await waitUdpBound(srtPort, { proc, stderr: () => err });
  return {
    srtPort,
    file,
    proc,
    exited,
    stderr: () => err,
    bytes: () => statSync(file).size,
    heartbeatBody: () => body(srtPort, rtmpPort, 'srt-recv'),
    async stop() {
      await stopChild(proc, exited);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SrtSenderOrigin extends SrtOrigin {
  proc: Spawned;
}

/**
 * An SRT origin that serves a stream to the first caller (what SRS does with `m=request`): ffmpeg
 * encoding a lavfi test pattern (H.264 + AAC) into MPEG-TS on an SRT listener.
 */
export async function startSrtSenderOrigin(opts: { seconds?: number } = {}): Promise<SrtSenderOrigin> {
  const bin = requireBinary('ffmpeg');
  const srtPort = await freeUdpPort();
  const rtmpPort = await freeTcpPort();
  const proc = spawnProcess(bin, [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=25:duration=${opts.seconds ?? 30}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${opts.seconds ?? 30}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k',
    '-f', 'mpegts', `srt://127.0.0.1:${srtPort}?mode=listener&pkt_size=1316`,
  ]);
  await waitUdpBound(srtPort, { proc: proc.child, stderr: proc.output });
  return {
    srtPort,
    proc,
    heartbeatBody: () => body(srtPort, rtmpPort, 'srt-send'),
    async stop() {
      await proc.stop();
    },
  };
}

export interface SilentOrigin extends SrtOrigin {
  /** Datagrams received (and never answered). */
  received(): number;
  socket: Socket;
}

/** A "dead" origin: a UDP socket that swallows everything and never answers. */
export async function startSilentOrigin(): Promise<SilentOrigin> {
  const socket = createSocket('udp4');
  let n = 0;
  socket.on('message', () => n++);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const srtPort = socket.address().port;
  const rtmpPort = await freeTcpPort();
  return {
    srtPort,
    socket,
    received: () => n,
    heartbeatBody: () => body(srtPort, rtmpPort, 'silent'),
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** True once something owns the UDP port (binding it fails with EADDRINUSE). */
/**
 * Whether some socket is bound to UDP `port`, read from /proc/net/udp{,6}. Probing by binding the
 * port ourselves would race the listener: holding it for a moment can make the listener's own
 * bind fail.
 */
function udpPortBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    if (text.split('\n').some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex))) return true;
  }
  return false;
}

/** Waits until the child bound `port`; fails at once (with its stderr) when the child exits first. */
async function waitUdpBound(port: number, child?: { proc: ChildProcess; stderr: () => string }, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (udpPortBound(port)) return;
    if (child && (child.proc.exitCode !== null || child.proc.signalCode !== null)) {
      throw new Error(`the origin exited (${child.proc.exitCode ?? child.proc.signalCode}) before binding UDP port ${port}: ${child.stderr().slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing bound UDP port ${port} within ${timeoutMs} ms`);
}

async function stopChild(proc: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(t);
}

export interface InprocSrtEdge {
  edge: SrtEdge;
  registry: RegistryClient;
  balancer: Balancer;
  metrics: Registry;
  logger: Logger;
  /** POST a heartbeat body to the registry's System API; resolves with the HTTP status. */
  register(body: HeartbeatBody): Promise<number>;
  close(): Promise<void>;
}

/**
 * The SRT edge in this process, wired as the standalone proxy wires it: a real RegistryService
 * (memory balancer, System API on a free port) on the in-process bus. Tests that inspect the
 * edge's maps and sockets use this; the rest use the spawned proxy (`startProxy`).
 */
export async function startInprocSrtEdge(opts: { env?: Record<string, string>; edge?: SrtEdgeOptions; logLevel?: string } = {}): Promise<InprocSrtEdge> {
  const logger = createLogger({ service: 'srt-test', level: (opts.logLevel ?? process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent' });
  const metrics = createMetricsRegistry();
  const bus = new InprocTransport();
  const balancer = createBalancer({ type: 'memory', options: { ...DEFAULT_BALANCER_OPTIONS } });
  await balancer.init();
  const registryService = new RegistryService(
    { logger, metrics, balancer, bus },
    { ...readConfig(registrySchema, { PROXY_SYSTEM_API: '127.0.0.1:0' }), originTtlMs: DEFAULT_BALANCER_OPTIONS.originTtlMs },
  );
  await registryService.start();
  // The proxy's default PROXY_REGISTRY_TIMEOUT.
  const registry = new BusRegistryClient(bus, 2000);
  const edge = new SrtEdge({ logger, metrics, registry }, readConfig(srtEdgeSchema, { PROXY_SRT_SERVER: '127.0.0.1:0', ...opts.env }), opts.edge);
  await edge.start();
  return {
    edge,
    registry,
    balancer,
    metrics,
    logger,
    async register(b) {
      const r = await fetch(`http://127.0.0.1:${registryService.systemApiPort}/api/v1/srs/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(b),
      });
      await r.text();
      return r.status;
    },
    async close() {
      await edge.close('test done');
      await registryService.close();
      await balancer.close();
      await bus.close();
    },
  };
}
