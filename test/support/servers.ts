import { connect } from 'node:net';
import { freeTcpPort } from './ports.ts';
import { requireBinary, spawnProcess, waitFor, type Spawned } from './process.ts';

export interface RunningServer {
  port: number;
  url: string;
  proc: Spawned;
  stop(): Promise<void>;
  /** Starts the server again on the same port after stop() (a fault test's outage ends); empty state. */
  start(): Promise<void>;
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

/** A restart on a fixed port may find it in TIME_WAIT or not yet released: bounded retries. */
const RESTART_TIMEOUT_MS = 10_000;

function restartable(name: string, port: number, url: string, first: Spawned, spawnOn: (port: number) => Spawned): RunningServer {
  const server: RunningServer = {
    port,
    url,
    proc: first,
    stop: async () => void (await server.proc.stop()),
    async start() {
      server.proc = spawnOn(port);
      await waitFor(() => tcpOpen(port), { what: `${name} back on ${port}`, procs: [server.proc], timeoutMs: RESTART_TIMEOUT_MS });
    },
  };
  return server;
}

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
  const spawnOn = (p: number) => spawnProcess(bin, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp']);
  const { port, proc } = await startOnFreePort('redis-server', spawnOn);
  return restartable('redis-server', port, `redis://127.0.0.1:${port}`, proc, spawnOn);
}

/** A private nats-server on a free port. One per suite. */
export async function startNats(): Promise<RunningServer> {
  const bin = requireBinary('nats-server');
  const spawnOn = (p: number) => spawnProcess(bin, ['-a', '127.0.0.1', '-p', String(p)]);
  const { port, proc } = await startOnFreePort('nats-server', spawnOn);
  return restartable('nats-server', port, `nats://127.0.0.1:${port}`, proc, spawnOn);
}
