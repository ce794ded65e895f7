import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startNginxOrigin, startProxy, waitFor, type NginxOrigin, type ProxyHandle } from '../support/index.ts';
import { request } from 'undici';
import { publishClip } from '../../services/rtmp-edge/test/e2e-helpers.ts';
import { startNmsOrigin } from '../support/nms-origin.ts';
import { requireBinary, spawnProcess } from '../support/index.ts';
import { startInprocSrtEdge, startSrtReceiverOrigin } from '../support/srt-origin.ts';
import type { HeartbeatBody } from '../support/heartbeat.ts';

/** The bound: a hung origin's session is closed within 15 s. */
const DETECT_BOUND_MS = 15_000;

/** SIGSTOP a process for the rest of the test; `resume()` (idempotent) sends SIGCONT. */
function freeze(pid: number): { resume(): void } {
  process.kill(pid, 'SIGSTOP');
  let frozen = true;
  return {
    resume() {
      if (!frozen) return;
      frozen = false;
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Already gone.
      }
    },
  };
}

const playlist = (o: NginxOrigin, stream: string) => join(o.dir, 'live', `${stream}.m3u8`);

test('a SIGSTOPped origin under a live RTMP publisher: the session closes within 15 s, the re-publish lands on the other origin', async (t) => {
  const origins = [await startNginxOrigin(), await startNginxOrigin()];
  t.after(async () => {
    for (const o of origins) await o.stop().catch(() => {});
  });
  const proxy: ProxyHandle = await startProxy();
  t.after(() => proxy.stop());
  for (const o of origins) assert.equal((await proxy.register(o.heartbeatBody())).status, 200);

  const url = `rtmp://127.0.0.1:${proxy.ports.rtmp}/live/hung`;
  const first = publishClip(url, { loops: 100 });
  t.after(() => first.stop('SIGKILL'));
  // nginx-rtmp writes the stream's HLS playlist on the origin that received the publish.
  const hungIdx = await waitFor(() => {
    const i = origins.findIndex((o) => existsSync(playlist(o, 'hung')));
    return i >= 0 ? i + 1 : undefined;
  }, { timeoutMs: 20_000, what: 'the publish reaches an origin', procs: [first, proxy.proc] }) - 1;
  const hung = origins[hungIdx]!;
  const other = origins[1 - hungIdx]!;

  const frozen = freeze(hung.proc.child.pid!);
  t.after(() => frozen.resume());
  const stoppedAt = performance.now();
  // The edge closes the publisher's session: ffmpeg sees its connection end and exits.
  await waitFor(() => first.child.exitCode !== null || first.child.signalCode !== null, { timeoutMs: 30_000, what: 'the publisher is disconnected' });
  const closedAfter = performance.now() - stoppedAt;
  t.diagnostic(`SIGSTOP -> publisher session closed: ${(closedAfter / 1000).toFixed(1)} s`);
  assert.ok(closedAfter < DETECT_BOUND_MS, `session closed ${closedAfter.toFixed(0)} ms after SIGSTOP`);
  assert.match(proxy.proc.output(), /RTMP origin hung/);
  assert.match(proxy.proc.output(), /SRSP_ERR_ORIGIN_STALLED/);

  // The encoder reconnects (a new ffmpeg): the edge's pick avoids the reported origin.
  const again = publishClip(url, { loops: 100 });
  t.after(() => again.stop('SIGKILL'));
  const repubAt = performance.now();
  await waitFor(() => existsSync(playlist(other, 'hung')), { timeoutMs: 20_000, what: 'the re-publish reaches the other origin', procs: [again, proxy.proc] });
  t.diagnostic(`re-publish on the other origin after ${((performance.now() - repubAt) / 1000).toFixed(1)} s`);
});

test('an FLV player whose origin is SIGSTOPped: its response ends within 15 s and the origin is reported', async (t) => {
  const origins = [await startNmsOrigin(), await startNmsOrigin()];
  t.after(async () => {
    for (const o of origins) await o.stop().catch(() => {});
  });
  const proxy: ProxyHandle = await startProxy();
  t.after(() => proxy.stop());
  for (const o of origins) assert.equal((await proxy.register(o.heartbeatBody())).status, 200);

  // Published through the edge, so the player's pick meets the publisher's origin.
  const publisher = publishClip(`rtmp://127.0.0.1:${proxy.ports.rtmp}/live/hungflv`, { loops: 100 });
  t.after(() => publisher.stop('SIGKILL'));
  const published = (i: number) => origins[i]!.events().some((e) => e.event === 'postPublish' && e.path === '/live/hungflv');
  const hungIdx = await waitFor(() => (published(0) ? 1 : published(1) ? 2 : undefined), {
    timeoutMs: 20_000, what: 'the publish reaches an origin', procs: [publisher, proxy.proc],
  }) - 1;
  const hung = origins[hungIdx]!;
  const other = origins[1 - hungIdx]!;

  const res = await request(`http://127.0.0.1:${proxy.ports.http}/live/hungflv.flv`);
  assert.equal(res.statusCode, 200);
  let bytes = 0;
  let frozen: { resume(): void } | undefined;
  let stoppedAt = 0;
  t.after(() => frozen?.resume());
  // Media flows first; then the origin is frozen; the loop ends when the edge ends the response.
  for await (const chunk of res.body) {
    bytes += (chunk as Buffer).length;
    if (frozen === undefined && bytes > 64 * 1024) {
      frozen = freeze(hung.proc.child.pid!);
      stoppedAt = performance.now();
    }
  }
  const endedAfter = performance.now() - stoppedAt;
  assert.ok(frozen !== undefined, `the response ended after ${bytes} bytes, before the origin was frozen`);
  t.diagnostic(`SIGSTOP -> FLV response ended: ${(endedAfter / 1000).toFixed(1)} s (${bytes} bytes relayed)`);
  assert.ok(endedAfter < DETECT_BOUND_MS, `FLV response ended ${endedAfter.toFixed(0)} ms after SIGSTOP`);
  assert.match(proxy.proc.output(), /HTTP origin hung/);

  // The reported origin is avoided: the encoder's reconnect is placed on the other one.
  await waitFor(() => publisher.child.exitCode !== null || publisher.child.signalCode !== null, { timeoutMs: 15_000, what: 'the publisher is disconnected' });
  const again = publishClip(`rtmp://127.0.0.1:${proxy.ports.rtmp}/live/hungflv`, { loops: 100 });
  t.after(() => again.stop('SIGKILL'));
  await waitFor(() => other.events().some((e) => e.event === 'postPublish' && e.path === '/live/hungflv'), {
    timeoutMs: 20_000, what: 'the re-publish reaches the other origin', procs: [again, proxy.proc],
  });
});

const idOf = (b: HeartbeatBody) => `${b.server}-${b.service}-${b.pid}`;

function srtPublisher(port: number, stream: string) {
  return spawnProcess(requireBinary('ffmpeg'), [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=120',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p',
    '-f', 'mpegts', `srt://127.0.0.1:${port}?streamid=#!::r=live/${stream},m=publish&pkt_size=1316`,
  ]);
}

test('a SIGSTOPped SRT origin under a live publisher: the session closes within 15 s, the origin is reported, the re-publish lands elsewhere', async (t) => {
  const h = await startInprocSrtEdge();
  t.after(() => h.close());
  const origins = [await startSrtReceiverOrigin({ reconnect: true }), await startSrtReceiverOrigin({ reconnect: true })];
  t.after(async () => {
    for (const o of origins) await o.stop().catch(() => {});
  });
  const bodies = origins.map((o) => o.heartbeatBody());
  for (const b of bodies) assert.equal(await h.register(b), 200);

  const first = srtPublisher(h.edge.port, 'hungsrt');
  t.after(() => first.stop('SIGKILL'));
  const session = await waitFor(() => h.edge.list().find((s) => s.streamUrl.endsWith('/live/hungsrt') && s.state === 'established'), {
    timeoutMs: 15_000, what: 'SRT session established', procs: [first],
  });
  const hungIdx = bodies.findIndex((b) => idOf(b) === session.origin?.id);
  assert.ok(hungIdx >= 0, `session on ${session.origin?.id}`);
  // Media reaches the origin (a second's worth) before it is frozen.
  await waitFor(() => origins[hungIdx]!.bytes() > 32 * 1024, { timeoutMs: 15_000, what: 'media at the origin' });

  const frozen = freeze(origins[hungIdx]!.proc.pid!);
  t.after(() => frozen.resume());
  const stoppedAt = performance.now();
  await waitFor(() => session.state === 'closed', { timeoutMs: 30_000, what: 'the SRT session closes' });
  const closedAfter = performance.now() - stoppedAt;
  t.diagnostic(`SIGSTOP -> SRT session closed: ${(closedAfter / 1000).toFixed(1)} s (${session.closeReason})`);
  assert.ok(closedAfter < DETECT_BOUND_MS, `SRT session closed ${closedAfter.toFixed(0)} ms after SIGSTOP`);
  // libsrt's caller drops a peer silent for 5 s, racing the edge's own 5 s check: either ends it.
  assert.match(session.closeReason ?? '', /origin sent nothing|caller shutdown/);
  await waitFor(async () => {
    const listed = (await h.registry.listOrigins()).find((o) => o.origin.id === idOf(bodies[hungIdx]!));
    return listed !== undefined && listed.penalized_until > Date.now();
  }, { timeoutMs: 5_000, what: 'the hung origin reported to the registry' });

  await first.stop('SIGKILL');
  const again = srtPublisher(h.edge.port, 'hungsrt');
  t.after(() => again.stop('SIGKILL'));
  const next = await waitFor(() => h.edge.list().find((s) => s !== session && s.streamUrl.endsWith('/live/hungsrt') && s.state === 'established'), {
    timeoutMs: 15_000, what: 'the re-publish is established', procs: [again],
  });
  assert.equal(next.origin?.id, idOf(bodies[1 - hungIdx]!), 'the re-publish lands on the other origin');
});
