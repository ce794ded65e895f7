import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startNginxOrigin, startProxy, waitFor, type NginxOrigin, type ProxyHandle } from '../support/index.ts';
import { callbackServer } from '../../services/rtmp-edge/test/e2e-helpers.ts';
import { RawRtmpClient } from '../../services/rtmp-edge/test/rtmp-client.ts';

let origins: NginxOrigin[] = [];
let proxy: ProxyHandle;
let hooks: Awaited<ReturnType<typeof callbackServer>>;

before(async () => {
  hooks = await callbackServer();
  origins = [0, 1].map(() => undefined as unknown as NginxOrigin);
  origins[0] = await startNginxOrigin({ onPublishUrl: hooks.url('/o0/publish') });
  origins[1] = await startNginxOrigin({ onPublishUrl: hooks.url('/o1/publish') });
  proxy = await startProxy();
  for (const o of origins) assert.equal((await proxy.register(o.heartbeatBody())).status, 200);
});

after(async () => {
  await proxy?.stop();
  for (const o of origins) await o?.stop().catch(() => {});
  await hooks?.close();
});

test('killing the origin of a stream: re-publishing through the edge lands on the other within a second', async () => {
  const tcUrl = `rtmp://127.0.0.1:${proxy.ports.rtmp}/live`;
  const first = await RawRtmpClient.open(proxy.ports.rtmp);
  assert.equal((await first.publish(tcUrl, 'failover')).code, 'NetStream.Publish.Start');
  const call = await waitFor(() => hooks.calls.find((c) => c.body.get('name') === 'failover'));
  const dead = Number(call.path.split('/')[1]!.slice(1));
  first.close();
  await origins[dead]!.proc.stop('SIGKILL');

  const t0 = performance.now();
  const again = await RawRtmpClient.open(proxy.ports.rtmp);
  const st = await again.publish(tcUrl, 'failover');
  const elapsed = performance.now() - t0;
  assert.equal(st.code, 'NetStream.Publish.Start', st.description);
  assert.ok(elapsed < 1000, `re-publish took ${elapsed.toFixed(0)} ms`);
  const calls = hooks.calls.filter((c) => c.body.get('name') === 'failover');
  assert.equal(calls.length, 2);
  assert.equal(calls[1]!.path, `/o${1 - dead}/publish`);

  // A player now meets the publisher on the surviving origin (sticky to the new placement).
  const player = await RawRtmpClient.open(proxy.ports.rtmp);
  assert.equal((await player.play(tcUrl, 'failover')).code, 'NetStream.Play.Start');
  player.close();
  again.close();
});
