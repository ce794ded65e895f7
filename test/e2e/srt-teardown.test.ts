import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freeUdpPort, requireBinary, spawnProcess, waitFor, type Spawned } from '../support/index.ts';
import type { HeartbeatBody } from '../support/heartbeat.ts';
import { startInprocSrtEdge, startSrtReceiverOrigin, type SrtReceiverOrigin } from '../support/srt-origin.ts';

const SESSIONS = 50;
const idOf = (b: HeartbeatBody) => `${b.server}-${b.service}-${b.pid}`;
const udpHandles = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;

/** Starts `n` things `width` at a time (2 cores: a burst of 50 process starts starves everything). */
async function inBatches<T>(n: number, width: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += width) out.push(...(await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, k) => make(i + k)))));
  return out;
}

/**
 * 50 libsrt callers (srt-live-transmit) held open through the edge to 50 libsrt origins, then torn
 * down three ways: the caller's SRT shutdown, the origin's SRT shutdown, and callers that vanish
 * without a word (idle timeout). Every session, map entry and origin socket must be gone.
 */
test('50 concurrent sessions, each torn down, leave no sockets or map entries', async (t) => {
  const slt = requireBinary('srt-live-transmit');
  // 100 libsrt processes start on 2 cores beside another test file: a generous origin handshake
  // bound keeps a starved (not dead) origin from being failed over to a stream's wrong origin.
  // The edge's clock stands still until the callers that must be found idle have vanished: a
  // starved libsrt process that misses a keepalive for 2 s must not be closed as idle while the
  // test expects its session to end by an SRT shutdown. Then it runs with real time from there.
  const t0 = Date.now();
  let resumedAt: number | undefined;
  const now = () => (resumedAt === undefined ? t0 : t0 + (Date.now() - resumedAt));
  const h = await startInprocSrtEdge({ env: { PROXY_SRT_IDLE_TIMEOUT: '2s', PROXY_SRT_HANDSHAKE_TIMEOUT: '4s' }, edge: { now } });
  t.after(() => h.close());
  const baseline = udpHandles();

  const origins: SrtReceiverOrigin[] = await inBatches(SESSIONS, 10, () => startSrtReceiverOrigin());
  t.after(() => Promise.all(origins.map((o) => o.stop())));
  const bodies = origins.map((o) => o.heartbeatBody());
  for (const b of bodies) assert.equal(await h.register(b), 200);
  const ids = bodies.map(idOf);
  // One origin per stream (an srt-live-transmit listener serves a single caller).
  for (let i = 0; i < SESSIONS; i++) {
    const placed = await h.balancer.pick(`__defaultVhost__/live/s${i}`, { protocol: 'srt', avoid: ids.filter((_, k) => k !== i) });
    assert.equal(placed.origin.id, ids[i]);
  }

  // The legacy stream id form (`live/s<i>`), as srt-live-transmit passes it verbatim.
  const callers: Spawned[] = await inBatches(SESSIONS, 10, async (i) =>
    spawnProcess(slt, ['-a:no', '-q', '-ll:error', `udp://127.0.0.1:${await freeUdpPort()}`, `srt://127.0.0.1:${h.edge.port}?streamid=live/s${i}&conntimeo=15000`]),
  );
  t.after(() => Promise.all(callers.map((c) => c.stop('SIGKILL'))));

  await waitFor(() => h.edge.stats().bySocket === SESSIONS, { timeoutMs: 45_000, intervalMs: 100, what: `${SESSIONS} established sessions`, procs: callers });
  const open = h.edge.stats();
  assert.equal(open.sessions, SESSIONS);
  assert.equal(open.byCaller, SESSIONS);
  assert.equal(open.originSockets, SESSIONS);
  assert.equal(udpHandles(), baseline + SESSIONS, 'one origin socket per session');
  for (let i = 0; i < SESSIONS; i++) {
    const s = h.edge.list().find((x) => x.streamUrl === `__defaultVhost__/live/s${i}`);
    assert.equal(s?.origin?.id, ids[i]);
  }

  const all = h.edge.list();
  const sessionOf = (i: number) => all.find((x) => x.streamUrl === `__defaultVhost__/live/s${i}`)!;

  // 0..19: the caller leaves cleanly (SRT shutdown from the caller).
  await Promise.all(callers.slice(0, 20).map((c) => c.stop('SIGTERM')));
  // 20..34: the origin goes away cleanly (SRT shutdown from the origin).
  await Promise.all(origins.slice(20, 35).map((o) => o.stop()));
  await waitFor(() => Array.from({ length: 35 }, (_, i) => sessionOf(i)).every((s) => s.closeReason !== undefined), {
    timeoutMs: 15_000,
    what: `the 35 shut down sessions to close (${h.edge.stats().sessions} open)`,
  });
  // 35..49: the caller vanishes without a word; only the idle timeout can notice.
  await Promise.all(callers.slice(35).map((c) => c.stop('SIGKILL')));
  resumedAt = Date.now();

  await waitFor(() => h.edge.stats().sessions === 0, { timeoutMs: 15_000, what: `all sessions closed (${h.edge.stats().sessions} open)` });
  const reasons = new Map<string, number>();
  for (const s of all) {
    const r = s.closeReason?.startsWith('idle') ? 'idle' : String(s.closeReason);
    reasons.set(r, (reasons.get(r) ?? 0) + 1);
  }
  assert.deepEqual(h.edge.stats(), { sessions: 0, byCaller: 0, bySocket: 0, socketBuckets: 0, perIp: 0, lingering: 0, originSockets: 0 });
  await waitFor(() => udpHandles() === baseline, { timeoutMs: 3000, what: `UDP handles back to ${baseline} (have ${udpHandles()})` });
  assert.equal(reasons.get('caller shutdown'), 20, JSON.stringify([...reasons]));
  assert.equal(reasons.get('origin shutdown'), 15, JSON.stringify([...reasons]));
  assert.equal(reasons.get('idle'), 15, JSON.stringify([...reasons]));
  assert.match(await h.metrics.metrics(), /srsp_srt_sessions\{[^}]*mode="request"[^}]*\} 0/);
});
