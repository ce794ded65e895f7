import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startNginxOrigin, startProxy, type NginxOrigin, type ProxyHandle } from '../support/index.ts';
import { callbackServer } from '../../services/rtmp-edge/test/e2e-helpers.ts';
import { RawRtmpClient } from '../../services/rtmp-edge/test/rtmp-client.ts';
import { commandMessage, statusInfo } from '../../services/rtmp-edge/src/rtmp/messages.ts';

let proxy: ProxyHandle;
let origin: NginxOrigin | undefined;
let hooks: Awaited<ReturnType<typeof callbackServer>>;

before(async () => {
  // The origin refuses publishing names that start with "denied".
  hooks = await callbackServer((c) => ((c.body.get('name') ?? '').startsWith('denied') ? 403 : 200));
  proxy = await startProxy();
});

after(async () => {
  await proxy?.stop();
  await origin?.stop();
  await hooks?.close();
});

test('no origin: publisher gets NetStream.Publish.BadName, player NetStream.Play.StreamNotFound, with a reason, then close', async () => {
  const tcUrl = `rtmp://127.0.0.1:${proxy.ports.rtmp}/live`;
  const pub = await RawRtmpClient.open(proxy.ports.rtmp);
  const st = await pub.publish(tcUrl, 'nothing');
  assert.equal(st.code, 'NetStream.Publish.BadName');
  assert.match(st.description, /no server|no origin/i);
  assert.ok(await pub.closed());

  const player = await RawRtmpClient.open(proxy.ports.rtmp);
  const ps = await player.play(tcUrl, 'nothing');
  assert.equal(ps.code, 'NetStream.Play.StreamNotFound');
  assert.ok(ps.description.length > 0);
  assert.ok(await player.closed());
});

test('connect without tcUrl: NetConnection.Connect.Rejected', async () => {
  const c = await RawRtmpClient.open(proxy.ports.rtmp);
  c.send(commandMessage('connect', 1, { app: 'live' }));
  const r = await c.waitCommand((x) => x.tid === 1, 'connect answer');
  assert.equal(r.name, '_error');
  assert.equal(statusInfo(r)?.code, 'NetConnection.Connect.Rejected');
  assert.match(String(statusInfo(r)?.description), /tcUrl/);
  assert.ok(await c.closed());
});

test('origin refuses the publish: the client is told, other sessions are unaffected', async () => {
  origin = await startNginxOrigin({ onPublishUrl: hooks.url('/publish') });
  assert.equal((await proxy.register(origin.heartbeatBody())).status, 200);
  const tcUrl = `rtmp://127.0.0.1:${proxy.ports.rtmp}/live`;
  const ok = await RawRtmpClient.open(proxy.ports.rtmp);
  assert.equal((await ok.publish(tcUrl, 'allowed')).code, 'NetStream.Publish.Start');
  const denied = await RawRtmpClient.open(proxy.ports.rtmp);
  const st = await denied.publish(tcUrl, 'denied?secret=wrong');
  assert.equal(st.code, 'NetStream.Publish.BadName');
  assert.match(st.description, /origin/);
  assert.ok(await denied.closed());
  // The accepted publisher still relays: a player gets Play.Start from the same origin.
  const player = await RawRtmpClient.open(proxy.ports.rtmp);
  assert.equal((await player.play(tcUrl, 'allowed')).code, 'NetStream.Play.Start');
  player.close();
  ok.close();
});
