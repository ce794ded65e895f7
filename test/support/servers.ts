import { connect } from 'node:net';
import { freeTcpPort } from './ports.ts';
import { requireBinary, spawnProcess, waitFor, type Spawned } from './process.ts';

export interface RunningServer {
  port: number;
  url: string;
  proc: Spawned;
  stop(): Promise<void>;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A private redis-server on a free port, no persistence. One per suite. */
export async function startRedis(): Promise<RunningServer> {
  const bin = requireBinary('redis-server');
  const port = await freeTcpPort();
  const proc = spawnProcess(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp']);
  await waitFor(() => tcpOpen(port), { what: `redis-server on ${port}` });
  return { port, url: `redis://127.0.0.1:${port}`, proc, stop: async () => void (await proc.stop()) };
}

/** A private nats-server on a free port. One per suite. */
export async function startNats(): Promise<RunningServer> {
  const bin = requireBinary('nats-server');
  const port = await freeTcpPort();
  const proc = spawnProcess(bin, ['-a', '127.0.0.1', '-p', String(port)]);
  await waitFor(() => tcpOpen(port), { what: `nats-server on ${port}` });
  return { port, url: `nats://127.0.0.1:${port}`, proc, stop: async () => void (await proc.stop()) };
}
