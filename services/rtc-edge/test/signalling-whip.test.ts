import test from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startEdge } from './harness.ts';
import { useSignallingFixture, offerSdp, SRS_ANSWER_UFRAG } from './scripted-origin.ts';
import { ORIGIN_PARAM, SESSION_PARAM } from '../src/whip-location.ts';

const fx = useSignallingFixture('srs1');

const api = (path: string) => `http://127.0.0.1:${fx.e.edge.apiPort}${path}`;

for (const kind of ['whip', 'whep'] as const) {
  test(`${kind.toUpperCase()} POST: forwarded as is, answer rewritten, Location/CORS forwarded, session stored`, async () => {
    fx.origin.requests.length = 0;
    const offer = offerSdp(`Cx${kind}`);
    const res = await request(api(`/rtc/v1/${kind}/?app=live&stream=${kind}s&secret=abc`), {
      method: 'POST', body: offer, headers: { 'content-type': 'application/sdp', authorization: 'Bearer tok' },
    });
    const body = await res.body.text();
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers['content-type'], 'application/sdp');
    assert.equal(res.headers['access-control-allow-origin'], '*', 'our CORS, not the origin\'s');
    assert.match(String(res.headers['access-control-expose-headers']), /Location/);
    assert.equal(res.headers.server, 'SRS/6.0.156(Hang)', 'other origin headers are forwarded');
    const location = String(res.headers.location);
    assert.ok(location.startsWith(`/rtc/v1/${kind}/?action=delete&token=t0k3n&app=live&stream=${kind}s&session=`), location);
    assert.match(location, new RegExp(`&${ORIGIN_PARAM}=srs1-svc-1&${SESSION_PARAM}=[^&]+%3A[^&]+$`), location);

    // What the origin saw: same method, path and raw query; the offer bytes; client auth forwarded.
    const seen = fx.origin.requests.at(-1)!;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, `/rtc/v1/${kind}/?app=live&stream=${kind}s&secret=abc`);
    assert.equal(seen.body, offer);
    assert.equal(seen.headers['content-type'], 'application/sdp');
    assert.equal(seen.headers.authorization, 'Bearer tok');
    assert.equal(seen.headers['x-real-ip'], '127.0.0.1');

    // Every candidate now names this edge's UDP port; ICE-TCP ones are gone.
    const cands = body.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
    assert.equal(cands.length, 4);
    for (const c of cands) assert.match(c, new RegExp(` udp 2130706431 \\S+ ${fx.e.edge.port} typ host generation 0$`), c);
    assert.ok(!body.includes(' tcp '), 'no tcp');

    // The session is known to the registry (any replica) and to this edge's relay.
    const session = await fx.cluster.client.rtcLoad(`${SRS_ANSWER_UFRAG}:Cx${kind}`);
    assert.deepEqual(session && { s: session.stream_url, o: session.origin_id, h: session.rtc_host, p: session.rtc_port }, {
      s: `__defaultVhost__/live/${kind}s`, o: 'srs1-svc-1', h: '127.0.0.1', p: 8000,
    });
    assert.ok(fx.e.edge.relay.sizes().known >= 1, 'known');
    assert.ok(fx.e.logs.matching(new RegExp(`Got WebRTC ${kind.toUpperCase()} from 127\\.0\\.0\\.1:\\d+ with ${offer.length}B offer for http://127\\.0\\.0\\.1/live/${kind}s`)).length >= 1, JSON.stringify(fx.e.logs.lines.map((l) => l.msg)));
    assert.ok(fx.e.logs.matching(new RegExp(`Create WebRTC connection with local answer \\d+B with ice-ufrag=${SRS_ANSWER_UFRAG}, ice-pwd=32B`)).length >= 1);
  });
}

test('the no-slash forms redirect with the query kept; versions answered locally; others 404', async () => {
  for (const path of ['/rtc/v1/whip', '/rtc/v1/whep', '/rtc/v1/publish', '/rtc/v1/play']) {
    const res = await request(api(`${path}?app=live&stream=s`), { method: 'POST', body: offerSdp() });
    await res.body.dump();
    assert.equal(res.statusCode, 301);
    assert.equal(res.headers.location, `${path}/?app=live&stream=s`);
  }
  const v = await request(api('/api/v1/versions'));
  assert.equal(v.statusCode, 200);
  assert.deepEqual(await v.body.json(), { signature: 'SRSProxy', version: '1.5.0' });
  assert.equal(v.headers.server, 'SRSProxy/1.5.0');
  assert.equal(v.headers['content-type'], 'application/json');
  for (const path of ['/api/v1/streams/', '/', '/rtc/v1/nack/']) {
    const r = await request(api(path));
    assert.equal(r.statusCode, 404);
    assert.equal(await r.body.text(), '404 page not found\n');
  }
  const o = await request(api('/rtc/v1/whip/?app=live&stream=s'), { method: 'OPTIONS' });
  assert.equal(o.statusCode, 200);
  assert.equal(await o.body.text(), '');
  assert.equal(o.headers['access-control-allow-methods'], '*');
  const get = await request(api('/rtc/v1/whip/'), { method: 'GET' });
  await get.body.dump();
  assert.equal(get.statusCode, 405);
});

test('PROXY_RTC_CANDIDATE rewrites candidate IPs (and collapses duplicates)', async () => {
  const e2 = await startEdge(fx.cluster.client, { PROXY_RTC_CANDIDATE: '203.0.113.77' });
  try {
    const res = await request(`http://127.0.0.1:${e2.edge.apiPort}/rtc/v1/whip/?app=live&stream=cand`, { method: 'POST', body: offerSdp('Ccand') });
    const body = await res.body.text();
    assert.equal(res.statusCode, 201);
    const cands = body.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
    assert.deepEqual(cands, [
      `a=candidate:0 1 udp 2130706431 203.0.113.77 ${e2.edge.port} typ host generation 0`,
      `a=candidate:0 1 udp 2130706431 203.0.113.77 ${e2.edge.port} typ host generation 0`,
    ]);
  } finally {
    await e2.close();
  }
});
