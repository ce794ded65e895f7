import { fileURLToPath } from 'node:url';
import { freeTcpPort, spawnProcess, waitFor, type Spawned } from '../../../test/support/index.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/registry-main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** A tsx process boots in 1–3 s on this shared machine; allow for a loaded CI box. */
const REGISTRY_READY_TIMEOUT_MS = 20_000;

export interface RegistryProcess {
  systemPort: number;
  opsPort: number;
  proc: Spawned;
  /** Sum of `srsp_registry_picks_total` over all results, read from /metrics. */
  picksServed(): Promise<number>;
  stop(): Promise<void>;
}

/** Spawns a cluster-mode registry (Redis balancer, NATS bus) and waits until /readyz passes. */
export async function spawnRegistry(opts: { natsUrl: string; redisPort: number; env?: Record<string, string>; nodeArgs?: string[] }): Promise<RegistryProcess> {
  const systemPort = await freeTcpPort();
  const opsPort = await freeTcpPort();
  const proc = spawnProcess(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PROXY_LOAD_BALANCER_TYPE: 'redis',
      PROXY_REDIS_HOST: '127.0.0.1',
      PROXY_REDIS_PORT: String(opts.redisPort),
      PROXY_NATS_URL: opts.natsUrl,
      PROXY_SYSTEM_API: `127.0.0.1:${systemPort}`,
      PROXY_OPS_SERVER: `127.0.0.1:${opsPort}`,
      PROXY_LOG_LEVEL: 'info',
      ...opts.env,
    },
  });
  try {
    await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => undefined);
      return res?.status === 200;
    }, { timeoutMs: REGISTRY_READY_TIMEOUT_MS, intervalMs: 100, what: 'registry /readyz', procs: [proc] });
  } catch (err) {
    await proc.stop();
    throw new Error(`${String(err)}\n${proc.output().slice(-3000)}`);
  }
  return {
    systemPort,
    opsPort,
    proc,
    async picksServed() {
      const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
      let sum = 0;
      for (const m of text.matchAll(/^srsp_registry_picks_total\{[^}]*\} (\d+)$/gm)) sum += Number(m[1]);
      return sum;
    },
    async stop() {
      await proc.stop();
    },
  };
}
