import test from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startRegistry, startEdge } from './harness.ts';
import { useSignallingFixture, offerSdp, SRS_ANSWER } from './scripted-origin.ts';
import { MAX_OFFER_BYTES } from '../src/signalling.ts';
import { freeTcpPort } from '../../../test/support/index.ts';

const fx = useSignallingFixture();

const post = async (path: string, body: string | Buffer) => {
  const res = await request(`http://127.0.0.1:${fx.e.edge.apiPort}${path}`, { method: 'POST', body });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
};

test('no origin registered: 503 naming the stream, before anything is written', async () => {
  const r = await post('/rtc/v1/whip/?app=live&stream=none', offerSdp());
  assert.equal(r.status, 503);
  assert.match(r.text, /__defaultVhost__\/live\/none/);
  assert.equal(r.headers['access-control-allow-origin'], '*');
});

test('an offer without ICE credentials is 400 and never reaches an origin (WHIP DELETE-as-POST bug)', async () => {
  assert.equal(await fx.cluster.register(fx.origin.heartbeat('srsE')), 200);
  fx.origin.requests.length = 0;
  const r = await post('/rtc/v1/whip/?app=live&stream=s', '');
  assert.equal(r.status, 400);
  assert.match(r.text, /no ice-ufrag in offer/);
  assert.equal(fx.origin.requests.length, 0);
});

test('an oversized offer is 413', async () => {
  const r = await post('/rtc/v1/whip/?app=live&stream=s', Buffer.alloc(MAX_OFFER_BYTES + 1, 0x61));
  assert.equal(r.status, 413);
});

test('origin errors are passed through; an unusable 201 becomes 502, never a 2xx with an error body', async () => {
  fx.origin.respond = () => ({ status: 400, headers: { 'content-type': 'text/plain' }, body: 'bad offer from SRS' });
  let r = await post('/rtc/v1/whip/?app=live&stream=s', offerSdp());
  assert.equal(r.status, 400);
  assert.equal(r.text, 'bad offer from SRS');

  fx.origin.respond = () => ({ status: 201, headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' });
  r = await post('/rtc/v1/whip/?app=live&stream=s', offerSdp());
  assert.equal(r.status, 502);
  assert.match(r.text, /origin answer unusable: no ice-ufrag in answer/);

  fx.origin.respond = () => ({ status: 201, body: SRS_ANSWER.replace(/a=candidate:\d 1 udp[^\r]*\r\n/g, '') });
  r = await post('/rtc/v1/whip/?app=live&stream=s', offerSdp());
  assert.equal(r.status, 502);
  assert.match(r.text, /no UDP candidate/);
  fx.origin.respond = undefined;
});

test('a refused origin connect fails over to another origin; with none left the client gets 503 without addresses', async () => {
  const dead = await freeTcpPort();
  const c2 = await startRegistry();
  const e2 = await startEdge(c2.client);
  try {
    assert.equal(await c2.register({ ip: '127.0.0.1', server: 'dead', service: 's', pid: '1', rtmp: ['1'], api: [String(dead)], rtc: ['8000'] }), 200);
    let res = await request(`http://127.0.0.1:${e2.edge.apiPort}/rtc/v1/whip/?app=live&stream=f`, { method: 'POST', body: offerSdp() });
    const text = await res.body.text();
    assert.equal(res.statusCode, 503, 'the dead origin was avoided and nothing else qualifies');
    assert.ok(!text.includes(String(dead)), 'no origin address in the client error');
    assert.ok(e2.logs.matching(/origin dead-s-1 failed/).length >= 1);

    assert.equal(await c2.register(fx.origin.heartbeat('alive')), 200);
    res = await request(`http://127.0.0.1:${e2.edge.apiPort}/rtc/v1/whip/?app=live&stream=f`, { method: 'POST', body: offerSdp() });
    await res.body.text();
    assert.equal(res.statusCode, 201, 'the second origin took the stream');
  } finally {
    await e2.close();
    await c2.close();
  }
});

test('an origin that registered no rtc endpoint is relayed at its answer\'s candidate port', async () => {
  const c3 = await startRegistry();
  const e3 = await startEdge(c3.client);
  try {
    const hb = fx.origin.heartbeat('nortc');
    delete hb.rtc;
    assert.equal(await c3.register(hb), 200);
    const res = await request(`http://127.0.0.1:${e3.edge.apiPort}/rtc/v1/whep/?app=live&stream=n`, { method: 'POST', body: offerSdp('Cnrtc') });
    await res.body.text();
    assert.equal(res.statusCode, 201);
    const s = await c3.client.rtcLoad('0o7s4d72:Cnrtc');
    assert.equal(s?.rtc_port, 8000);
    assert.equal(s?.rtc_host, '127.0.0.1');
  } finally {
    await e3.close();
    await c3.close();
  }
});
