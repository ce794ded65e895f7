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

/**
 * A free port is only free until someone binds it: another test process may take it between our
 * probe and the server's bind. A server that dies at start is retried on a new port this often.
 */
export const PORT_RACE_ATTEMPTS = 3;

async function startOnFreePort(name: string, start: (port: number) => Spawned): Promise<{ port: number; proc: Spawned }> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < PORT_RACE_ATTEMPTS; attempt++) {
    const port = await freeTcpPort();
    const proc = start(port);
    try {
      await waitFor(() => tcpOpen(port), { what: `${name} on ${port}`, procs: [proc] });
      return { port, proc };
    } catch (err) {
      lastErr = err;
      await proc.stop('SIGKILL');
    }
  }
  throw lastErr;
}

/** A private redis-server on a free port, no persistence. One per suite. */
export async function startRedis(): Promise<RunningServer> {
  const bin = requireBinary('redis-server');
  const { port, proc } = await startOnFreePort('redis-server', (p) =>
    spawnProcess(bin, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp']));
  return { port, url: `redis://127.0.0.1:${port}`, proc, stop: async () => void (await proc.stop()) };
}

/** A private nats-server on a free port. One per suite. */
export async function startNats(): Promise<RunningServer> {
  const bin = requireBinary('nats-server');
  const { port, proc } = await startOnFreePort('nats-server', (p) => spawnProcess(bin, ['-a', '127.0.0.1', '-p', String(p)]));
  return { port, url: `nats://127.0.0.1:${port}`, proc, stop: async () => void (await proc.stop()) };
}
