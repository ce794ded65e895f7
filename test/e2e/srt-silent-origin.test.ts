import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireBinary, spawnProcess, waitFor } from '../support/index.ts';
import type { HeartbeatBody } from '../support/heartbeat.ts';
import { startInprocSrtEdge, startSilentOrigin, startSrtReceiverOrigin } from '../support/srt-origin.ts';

const DEAD = '__defaultVhost__/live/dead';
const ALIVE = '__defaultVhost__/live/alive';

const idOf = (b: HeartbeatBody) => `${b.server}-${b.service}-${b.pid}`;

function publisher(port: number, stream: string, seconds: number, connectTimeoutMs = 3000) {
  return spawnProcess(requireBinary('ffmpeg'), [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', `testsrc=size=160x120:rate=25:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p',
    '-f', 'mpegts', `srt://127.0.0.1:${port}?streamid=#!::r=live/${stream},m=publish&pkt_size=1316&connect_timeout=${connectTimeoutMs}`,
  ]);
}

test('a silent origin never delays another session; its own session fails over to a live origin', async (t) => {
  // 2.5 s per origin attempt leaves a wide window in which the other caller must get through.
  const h = await startInprocSrtEdge({ env: { PROXY_SRT_HANDSHAKE_TIMEOUT: '2500ms' } });
  t.after(() => h.close());
  const silent = await startSilentOrigin();
  t.after(() => silent.stop());
  const healthy = await startSrtReceiverOrigin({ reconnect: true });
  t.after(() => healthy.stop());
  const sBody = silent.heartbeatBody();
  const hBody = healthy.heartbeatBody();
  assert.equal(await h.register(sBody), 200);
  assert.equal(await h.register(hBody), 200);
  // Place each stream on its origin the way a first pick would.
  assert.equal((await h.registry.pick(DEAD, { protocol: 'srt', avoid: [idOf(hBody)] })).origin.id, idOf(sBody));
  assert.equal((await h.registry.pick(ALIVE, { protocol: 'srt', avoid: [idOf(sBody)] })).origin.id, idOf(hBody));

  // libsrt's own connect timeout is raised so caller A outlives the first, silent attempt.
  const a = publisher(h.edge.port, 'dead', 4, 10_000);
  t.after(() => a.stop());
  const sessionA = await waitFor(() => h.edge.list().find((s) => s.streamUrl === DEAD), { timeoutMs: 8000, what: 'session A' });
  assert.equal(sessionA.state, 'connecting');

  const b = publisher(h.edge.port, 'alive', 1);
  t.after(() => b.stop());
  const sessionB = await waitFor(() => h.edge.list().find((s) => s.streamUrl === ALIVE && s.state === 'established'), { timeoutMs: 5000, what: 'session B established' });
  assert.equal(sessionA.state, 'connecting', 'B got through while A was still waiting on the silent origin');
  assert.ok(sessionB.setupMs! < 1000, `B's setup took ${sessionB.setupMs} ms`);
  assert.equal(await b.exited, 0, b.output());

  // A's first attempt ends at the timeout: reported, then retried on the only other origin.
  await waitFor(() => sessionA.state === 'established', { timeoutMs: 8000, what: 'session A fails over' });
  assert.equal(sessionA.origin?.id, idOf(hBody));
  assert.ok(sessionA.setupMs! >= 2500 && sessionA.setupMs! < 4500, `A's setup took ${sessionA.setupMs} ms`);
  assert.ok(silent.received() >= 5, `the silent origin saw ${silent.received()} handshake (re)transmissions`);
  const origins = await h.registry.listOrigins();
  const dead = origins.find((o) => o.origin.id === idOf(sBody));
  assert.ok(dead && dead.penalized_until > Date.now(), 'the silent origin was reported to the registry');
  assert.equal((await h.registry.pick(DEAD, { protocol: 'srt' })).origin.id, idOf(hBody), 'the stream now maps to the live origin');
  assert.equal(await a.exited, 0, a.output());
  const text = await h.metrics.metrics();
  assert.match(text, /srsp_srt_failovers_total(\{[^}]*\})? 1/);
  await waitFor(() => h.edge.stats().sessions === 0, { timeoutMs: 5000, what: 'sessions closed' });
});

test('with nowhere to fail over, the caller is rejected within the handshake timeout', async (t) => {
  const h = await startInprocSrtEdge({ env: { PROXY_SRT_HANDSHAKE_TIMEOUT: '1s' } });
  t.after(() => h.close());
  const silent = await startSilentOrigin();
  t.after(() => silent.stop());
  assert.equal(await h.register(silent.heartbeatBody()), 200);

  const a = publisher(h.edge.port, 'dead', 2, 10_000);
  t.after(() => a.stop());
  const session = await waitFor(() => h.edge.list().find((s) => s.streamUrl === DEAD), { timeoutMs: 8000, what: 'session' });
  const started = Date.now();
  const code = await a.exited;
  const elapsed = Date.now() - started;
  assert.notEqual(code, 0, 'the caller must fail');
  assert.match(a.output(), /REJECT reported/);
  assert.ok(elapsed < 2500, `caller failed after ${elapsed} ms`);
  assert.equal(session.state, 'closed');
  assert.ok(session.setupMs! >= 1000 && session.setupMs! < 2000, `setup ended after ${session.setupMs} ms`);
  const stats = h.edge.stats();
  assert.deepEqual({ ...stats, lingering: 0 }, { sessions: 0, byCaller: 0, bySocket: 0, socketBuckets: 0, perIp: 0, lingering: 0, originSockets: 0 });
  assert.match(await h.metrics.metrics(), /srsp_srt_sessions_total\{[^}]*result="failed"[^}]*\} 1/);
});
