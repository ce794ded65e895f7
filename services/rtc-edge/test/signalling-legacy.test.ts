import test from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { useSignallingFixture, offerSdp, SRS_ANSWER_UFRAG } from './scripted-origin.ts';

const fx = useSignallingFixture('legacy');

for (const api of ['publish', 'play'] as const) {
  test(`legacy /rtc/v1/${api}/: JSON forwarded, sdp rewritten, other fields kept, keyed like RTMP`, async () => {
    const body = JSON.stringify({ api: `http://proxy:1985/rtc/v1/${api}/`, streamurl: 'webrtc://localhost/live/legacy', clientip: null, sdp: offerSdp(`Cl${api}`), tid: 'abc' });
    const res = await request(`http://127.0.0.1:${fx.e.edge.apiPort}/rtc/v1/${api}/`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const json = (await res.body.json()) as { code: number; sdp: string; sessionid: string; server: string };
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(json.code, 0);
    assert.equal(json.sessionid, `${SRS_ANSWER_UFRAG}:x`);
    assert.equal(json.server, 'vid-x');
    for (const c of json.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'))) assert.match(c, new RegExp(` udp \\d+ \\S+ ${fx.e.edge.port} typ host`));
    assert.ok(!json.sdp.includes(' tcp '));
    const seen = fx.origin.requests.at(-1)!;
    assert.equal(seen.url, `/rtc/v1/${api}/`);
    assert.equal(seen.body, body);
    // Same key an RTMP client of rtmp://host/live/legacy gets: publisher and players meet.
    const s = await fx.cluster.client.rtcLoad(`${SRS_ANSWER_UFRAG}:Cl${api}`);
    assert.equal(s?.stream_url, '__defaultVhost__/live/legacy');
  });
}

test('legacy API: bad JSON / missing fields are 400; an origin error code is passed through untouched', async () => {
  const call = async (body: string) => {
    const res = await request(`http://127.0.0.1:${fx.e.edge.apiPort}/rtc/v1/play/`, { method: 'POST', body });
    return { status: res.statusCode, text: await res.body.text() };
  };
  assert.equal((await call('{')).status, 400);
  assert.equal((await call('[]')).status, 400);
  assert.match((await call(JSON.stringify({ streamurl: 'webrtc://h/live/x' }))).text, /missing sdp/);
  assert.match((await call(JSON.stringify({ sdp: offerSdp() }))).text, /missing streamurl/);
  fx.origin.respond = () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"code":5012,"server":"vid-x"}' });
  try {
    const r = await call(JSON.stringify({ sdp: offerSdp(), streamurl: 'webrtc://h/live/x' }));
    assert.equal(r.status, 200);
    assert.equal(r.text, '{"code":5012,"server":"vid-x"}');
  } finally {
    fx.origin.respond = undefined;
  }
});
