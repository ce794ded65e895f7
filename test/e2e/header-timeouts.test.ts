import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startProxy } from '../support/index.ts';

/** The documented header deadlines of the standalone proxy's HTTP listeners. */
const HEADERS_TIMEOUT_MS = { 'http streams': 10_000, 'WHIP/WHEP API': 10_000, 'System API': 10_000, ops: 5_000 } as const;
/** Node checks deadlines on a 1 s tick (HTTP_TIMEOUT_CHECK_INTERVAL_MS); the rest is a loaded machine. */
const LATE_MS = 3_000;

/** Sends a request head that never ends and resolves with how long the server kept the socket. */
function slowLoris(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = connect(port, '127.0.0.1', () => s.write('GET /live/x.flv HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n'));
    s.on('data', () => undefined);
    s.once('error', () => undefined);
    s.once('close', () => resolve(performance.now() - t0));
    setTimeout(() => {
      s.destroy();
      reject(new Error(`port ${port}: still open after 60 s`));
    }, 60_000).unref();
  });
}

test('slow-loris request heads are cut at each listener\'s documented header timeout, not ~30 s later', async (t) => {
  const proxy = await startProxy();
  t.after(() => proxy.stop());
  const ports = { 'http streams': proxy.ports.http, 'WHIP/WHEP API': proxy.ports.api, 'System API': proxy.ports.system, ops: proxy.ports.ops } as const;
  const held = await Promise.all(Object.entries(ports).map(async ([name, port]) => [name, await slowLoris(port)] as const));
  for (const [name, ms] of held) {
    const limit = HEADERS_TIMEOUT_MS[name as keyof typeof HEADERS_TIMEOUT_MS];
    assert.ok(ms >= limit - 100, `${name}: closed after ${ms.toFixed(0)} ms, before its ${limit} ms header timeout`);
    assert.ok(ms <= limit + LATE_MS, `${name}: a stalled request head held ${ms.toFixed(0)} ms (documented ${limit} ms)`);
  }
});
