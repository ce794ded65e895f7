import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { freeProxyPorts, proxyPortEnv, requireBinary, spawnProcess, tcpOpen, waitFor } from '../support/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** `pnpm start` builds (about a second) and then starts; generous for a loaded machine. */
const START_TIMEOUT_MS = 60_000;
/** An idle proxy stops in well under a second; this only bounds a hang. */
const STOP_TIMEOUT_MS = 15_000;

test('SIGTERM to the PID of `pnpm start` stops the proxy cleanly with exit 0 and leaves no orphan', async () => {
  const pnpm = requireBinary('pnpm');
  const ports = proxyPortEnv(await freeProxyPorts());
  const proc = spawnProcess(pnpm, ['start'], { cwd: ROOT, env: { ...process.env, ...ports } });
  try {
    await waitFor(
      async () => {
        const r = await request(`http://127.0.0.1:${ports.PROXY_OPS_SERVER}/readyz`);
        await r.body.text();
        return r.statusCode === 200;
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 100, what: 'pnpm start ready', procs: [proc] },
    );
    proc.child.kill('SIGTERM');
    const killer = setTimeout(() => proc.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const code = await proc.exited;
    clearTimeout(killer);
    assert.equal(code, 0, proc.output().slice(-2000));
    assert.match(proc.output(), /Got signal SIGTERM/);
    assert.match(proc.output(), /SRSProxy done/);
    // The proxy itself is gone, not re-parented: none of its listeners answers any more.
    for (const port of [ports.PROXY_OPS_SERVER, ports.PROXY_SYSTEM_API, ports.PROXY_RTMP_SERVER]) {
      assert.equal(await tcpOpen(Number(port)), false, `port ${port} still open after pnpm exited`);
    }
  } finally {
    await proc.stop('SIGKILL');
  }
});
