import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createBalancer, SESSION_DTO_VERSION, type Balancer, type RtcSession } from '@srs-proxy/balancer';
import { BusRegistryClient, InprocTransport, type BusTransport, type RegistryClient } from '@srs-proxy/bus';
import { createLogger, createMetricsRegistry, readConfig, type Logger, type Registry } from '@srs-proxy/runtime';
import { RegistryService, registrySchema } from '@srs-proxy/registry';
import { RtcEdge, rtcEdgeSchema } from '../src/index.ts';
import { LogCapture } from '../../../test/support/log-capture.ts';
import { waitFor } from '../../../test/support/process.ts';

export { LogCapture, waitFor };

export interface Cluster {
  bus: BusTransport;
  balancer: Balancer;
  registry: RegistryService;
  client: RegistryClient;
  systemPort: number;
  register(body: unknown): Promise<number>;
  close(): Promise<void>;
}

/** A real registry (memory balancer, in-process bus) on 127.0.0.1:0, as the standalone proxy wires it. */
export async function startRegistry(): Promise<Cluster> {
  const logger = createLogger({ service: 'registry', level: 'silent' });
  const balancer = createBalancer({ type: 'memory' });
  await balancer.init();
  const bus = new InprocTransport();
  const config = { ...readConfig(registrySchema, { PROXY_SYSTEM_API: '127.0.0.1:0' }), originTtlMs: 300_000 };
  const registry = new RegistryService({ logger, metrics: createMetricsRegistry(), balancer, bus }, config);
  await registry.start();
  const client = new BusRegistryClient(bus, 2_000);
  return {
    bus, balancer, registry, client, systemPort: registry.systemApiPort,
    async register(body) {
      const r = await fetch(`http://127.0.0.1:${registry.systemApiPort}/api/v1/srs/register`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      await r.text();
      return r.status;
    },
    async close() {
      await registry.close();
      await balancer.close();
      await bus.close();
    },
  };
}

export interface TestEdge {
  edge: RtcEdge;
  logs: LogCapture;
  logger: Logger;
  metrics: Registry;
  close(): Promise<void>;
}

/** An RtcEdge on 127.0.0.1 free ports, its logs captured. */
export async function startEdge(client: RegistryClient, env: Record<string, string> = {}, now?: () => number): Promise<TestEdge> {
  const logs = new LogCapture();
  const logger = createLogger({ service: 'rtc-edge', level: 'debug', destination: logs });
  const metrics = createMetricsRegistry();
  const config = readConfig(rtcEdgeSchema, { PROXY_HTTP_API: '127.0.0.1:0', PROXY_WEBRTC_SERVER: '127.0.0.1:0', ...env });
  const edge = new RtcEdge({ logger, metrics, registry: client }, config, now);
  await edge.start();
  return { edge, logs, logger, metrics, close: () => edge.close('test done') };
}

export function rtcSession(ufrag: string, originPort: number, stream = '__defaultVhost__/live/s'): RtcSession {
  return { v: SESSION_DTO_VERSION, ufrag, stream_url: stream, origin_id: 'o-1', rtc_host: '127.0.0.1', rtc_port: originPort };
}

/** A UDP socket on 127.0.0.1 that records what it receives. */
export interface Peer {
  socket: Socket;
  port: number;
  received: Array<{ msg: Buffer; port: number }>;
  send(msg: Buffer, port: number): Promise<void>;
  next(timeoutMs?: number): Promise<{ msg: Buffer; port: number }>;
  /** Forgets everything received (bounded tests measure memory without the test's own copies). */
  reset(): void;
  close(): Promise<void>;
}

export async function udpPeer(onMessage?: (msg: Buffer, port: number, peer: Peer) => void, host = '127.0.0.1'): Promise<Peer> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, host, () => r()));
  // A test that fails before closing its peers must not keep the test process alive.
  socket.unref();
  const waiters: Array<(m: { msg: Buffer; port: number }) => void> = [];
  const queue: Array<{ msg: Buffer; port: number }> = [];
  const peer: Peer = {
    socket,
    port: socket.address().port,
    received: [],
    send: (msg, port) => new Promise((resolve, reject) => socket.send(msg, port, '127.0.0.1', (err) => (err ? reject(err) : resolve()))),
    next(timeoutMs = 2000) {
      const q = queue.shift();
      if (q) return Promise.resolve(q);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`no datagram within ${timeoutMs} ms`));
        }, timeoutMs);
        const w = (m: { msg: Buffer; port: number }) => {
          clearTimeout(t);
          resolve(m);
        };
        waiters.push(w);
      });
    },
    reset() {
      peer.received.length = 0;
      queue.length = 0;
    },
    close: () => new Promise((r) => socket.close(() => r())),
  };
  socket.on('message', (msg, rinfo) => {
    const m = { msg, port: rinfo.port };
    peer.received.push(m);
    if (peer.received.length > 100_000) peer.received.shift();
    if (onMessage) onMessage(msg, rinfo.port, peer);
    const w = waiters.shift();
    if (w) w(m);
    else if (queue.push(m) > 10_000) queue.shift();
  });
  return peer;
}

/** Number of UDP sockets this process holds, from /proc (ref'd or not). */
export function udpHandles(): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* fd closed meanwhile */
    }
  }
  let n = 0;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode !== undefined && inodes.has(inode)) n++;
    }
  }
  return n;
}

/** A gc() callable without starting node with --expose-gc. */
export function gcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** Heap used after two full collections. */
export function settledHeap(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Waits until `count()` reaches `fraction` of `target` (UDP on loopback may drop a few under load). */
export async function waitForCount(count: () => number, target: number, fraction = 1, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = count();
  let stable = Date.now();
  while (Date.now() < deadline) {
    const n = count();
    if (n >= target) return n;
    if (n !== last) {
      last = n;
      stable = Date.now();
    } else if (n >= target * fraction && Date.now() - stable > 300) {
      return n;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`count stuck at ${count()} of ${target}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once the edge has read `n` more client datagrams than `from` (it handles each one
 * synchronously as it reads it, so what a datagram does is done by then); fails after a deadline.
 */
export async function edgeRead(edge: RtcEdge, from: number, n = 1): Promise<void> {
  await waitFor(() => edge.relay.counters.clientDatagrams >= from + n, { what: `the edge to read ${n} datagram(s)` });
}

/**
 * Flow control for a UDP flood from this process: waits until `count()` reaches `target`, or until
 * it has not moved for `stallMs` (what is still missing was dropped by the kernel). The sender,
 * the edge and the origin share one event loop, so waiting here is what lets the edge read; the
 * stall window only decides when a loss is a loss, never how much the edge has to keep up with.
 */
export async function drained(count: () => number, target: number, stallMs = 1_000): Promise<number> {
  let last = count();
  let moved = Date.now();
  while (last < target) {
    await sleep(1);
    const n = count();
    if (n !== last) {
      last = n;
      moved = Date.now();
    } else if (Date.now() - moved >= stallMs) {
      break;
    }
  }
  return last;
}

/** An RTP-looking datagram (first byte 0x80) of `size` bytes with a sequence number. */
export function rtpLike(seq: number, size = 200): Buffer {
  const b = Buffer.alloc(size);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(seq & 0xffff, 2);
  return b;
}
