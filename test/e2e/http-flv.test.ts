import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startProxy, waitFor, type ProxyHandle, type Spawned } from '../support/index.ts';
import { startNmsOrigin, type NmsOrigin } from '../support/nms-origin.ts';
import { decodeFrames, publishRtmp } from './http-media.ts';

/**
 * HTTP-FLV through the standalone proxy from a real node-media-server 4 origin, fed by FFmpeg
 * over RTMP and registered through the System API.
 */
let proxy: ProxyHandle;
let nms: NmsOrigin;
let publisher: Spawned;

before(async () => {
  nms = await startNmsOrigin();
  proxy = await startProxy();
  const reg = await proxy.register(nms.heartbeatBody());
  assert.equal(reg.status, 200, reg.body);
  publisher = publishRtmp(`rtmp://127.0.0.1:${nms.rtmpPort}/live/flv1`);
  await waitFor(() => nms.events().some((e) => e.event === 'postPublish' && e.path === '/live/flv1'), { timeoutMs: 15_000, what: 'publish on NMS', procs: [publisher] });
});

/** What the origin and the publisher did, for failure messages. */
function context(): string {
  return `\n--- NMS events ---\n${JSON.stringify(nms.events())}\n--- publisher ---\n${publisher.output()}\n--- proxy (tail) ---\n${proxy.proc.output().slice(-3000)}`;
}

/** waitFor, with the origin's and publisher's state at the time of a timeout. */
async function waitWithContext<T>(fn: () => T, opts: { timeoutMs?: number; what: string }): Promise<NonNullable<T>> {
  try {
    return await waitFor(fn, opts);
  } catch (err) {
    throw new Error(`${(err as Error).message}${context()}`);
  }
}

after(async () => {
  await publisher?.stop('SIGKILL');
  await proxy?.stop();
  await nms?.stop();
});

test('ffmpeg plays HTTP-FLV through the edge: frames decoded, origin headers kept, query forwarded', async () => {
  const before = nms.events().length;
  const played = await decodeFrames(`http://127.0.0.1:${proxy.ports.http}/live/flv1.flv?token=abc`, { frames: 50 });
  assert.ok(played.frames > 0, `no frames decoded:\n${played.output}${context()}`);
  assert.equal(played.frames, 50);
  const play = nms.events().slice(before).find((e) => e.event === 'postPlay' && e.path === '/live/flv1');
  assert.deepEqual(play?.query, { token: 'abc' }, `the player's query reached the origin${context()}`);

  const direct = await request(`http://127.0.0.1:${nms.httpPort}/live/flv1.flv`);
  const viaEdge = await request(`http://127.0.0.1:${proxy.ports.http}/live/flv1.flv`);
  const head = Buffer.alloc(3);
  for await (const chunk of viaEdge.body) {
    (chunk as Buffer).copy(head, 0, 0, 3);
    break;
  }
  direct.body.on('error', () => {}).destroy();
  assert.equal(viaEdge.statusCode, direct.statusCode);
  assert.equal(viaEdge.headers['content-type'], direct.headers['content-type']);
  assert.equal(viaEdge.headers['x-powered-by'], direct.headers['x-powered-by'], 'end-to-end origin headers reach the client');
  assert.equal(viaEdge.headers['access-control-allow-origin'], '*');
  assert.equal(head.toString('latin1'), 'FLV');
});

test('a player that disconnects mid-stream closes the origin request (NMS sees its player leave)', async () => {
  const before = nms.events().length;
  const r = await request(`http://127.0.0.1:${proxy.ports.http}/live/flv1.flv`);
  let got = 0;
  for await (const chunk of r.body) {
    got += (chunk as Buffer).length;
    if (got > 64 * 1024) break;
  }
  const play = await waitWithContext(() => nms.events().slice(before).find((e) => e.event === 'postPlay' && e.path === '/live/flv1'), { what: 'postPlay' });
  const left = Date.now();
  await waitWithContext(() => nms.events().slice(before).some((e) => e.event === 'donePlay' && e.id === play.id), { timeoutMs: 3_000, what: 'donePlay of the relayed player' });
  assert.ok(Date.now() - left < 3_000);
  const metrics = () => request(`http://127.0.0.1:${proxy.ports.ops}/metrics`).then((m) => m.body.text());
  await waitFor(async () => /srsp_http_edge_active_streams\{[^}]*kind="flv"[^}]*\} 0/.test(await metrics()), { timeoutMs: 3_000, what: 'active FLV streams back to 0' });
  assert.match(await metrics(), /srsp_http_edge_bytes_out_total\{[^}]*kind="flv"[^}]*\} [1-9]/);
});
