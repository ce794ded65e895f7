import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Stand-ins for an origin's SRS HTTP API (SRS itself is not packaged for this machine): one that
 * answers `/api/v1/streams/`, `/api/v1/clients/` and `/api/v1/summaries` with bodies shaped as SRS 6
 * sends them, and one that accepts connections and never answers (a hung origin).
 */
export interface SrsApiOrigin {
  port: number;
  /** Requests received, by path without the query. */
  requests: Map<string, number>;
  close(): Promise<void>;
}

export const SRS_STREAMS = {
  code: 0,
  server: 'vid-k2b9z1x',
  service: '4ja1v2s8',
  pid: '5873',
  streams: [
    {
      id: 'vid-0x1', name: 'livestream', vhost: 'vid-vhost', app: 'live', tcUrl: 'rtmp://127.0.0.1:1935/live', url: '/live/livestream',
      live_ms: 1_700_000_000_000, clients: 3, frames: 1200, send_bytes: 1_000_000, recv_bytes: 2_000_000,
      kbps: { recv_30s: 2510, send_30s: 5020 }, publish: { active: true, cid: 'c1' },
      video: { codec: 'H264', profile: 'High', level: '3.1', width: 1280, height: 720 },
      audio: { codec: 'AAC', sample_rate: 44100, channel: 2, profile: 'LC' },
    },
  ],
};

export const SRS_CLIENTS = {
  code: 0,
  clients: [
    { id: 'c1', vhost: 'vid-vhost', stream: 'vid-0x1', ip: '10.0.0.7', tcUrl: 'rtmp://127.0.0.1:1935/live', url: '/live/livestream', name: 'livestream', type: 'fmle-publish', publish: true, alive: 61.5, kbps: { recv_30s: 2510, send_30s: 0 } },
    { id: 'c2', vhost: 'vid-vhost', stream: 'vid-0x1', ip: '10.0.0.8', type: 'flv-play', publish: false, alive: 12, kbps: { recv_30s: 0, send_30s: 2510 } },
    { id: 'c3', vhost: 'vid-vhost', stream: 'vid-0x1', ip: '10.0.0.9', type: 'rtmp-play', publish: false, alive: 3, kbps: { recv_30s: 0, send_30s: 2510 } },
  ],
};

export function srsSummaries(sampleTime: number, recvBytes: number, sendBytes: number): unknown {
  return {
    code: 0,
    data: {
      ok: true,
      self: { version: '6.0.156', pid: 5873, mem_kbyte: 81852, mem_percent: 0.01, cpu_percent: 0.09, srs_uptime: 3540 },
      system: {
        cpu_percent: 0.25, mem_ram_kbyte: 8008448, mem_ram_percent: 0.18, cpus: 8, cpus_online: 8, load_1m: 0.5,
        srs_sample_time: sampleTime, srs_recv_bytes: recvBytes, srs_send_bytes: sendBytes, conn_srs: 8, conn_sys: 73,
      },
    },
  };
}

function listen(server: Server | HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startSrsApiOrigin(): Promise<SrsApiOrigin> {
  const requests = new Map<string, number>();
  const server = createHttpServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const body = path === '/api/v1/streams/' ? SRS_STREAMS : path === '/api/v1/clients/' ? SRS_CLIENTS : path === '/api/v1/summaries' ? srsSummaries(1_700_000_000_000, 1, 1) : undefined;
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  const port = await listen(server);
  return { port, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Accepts TCP connections and never writes a byte: the hung origin. */
export async function startSilentOrigin(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  });
  const port = await listen(server);
  return {
    port,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}
