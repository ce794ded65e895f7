import test from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startRegistry, startEdge, type Cluster, type TestEdge } from './harness.ts';
import { startScriptedOrigin, offerSdp, SRS_ANSWER, type ScriptedOrigin } from './scripted-origin.ts';

let cluster: Cluster;
let e: TestEdge;
let o1: ScriptedOrigin;
let o2: ScriptedOrigin;
test.before(async () => {
  cluster = await startRegistry();
  e = await startEdge(cluster.client);
  o1 = await startScriptedOrigin();
  o2 = await startScriptedOrigin();
  assert.equal(await cluster.register(o1.heartbeat('one')), 200);
  assert.equal(await cluster.register(o2.heartbeat('two')), 200);
});
test.after(async () => {
  await e.close();
  await o1.close();
  await o2.close();
  await cluster.close();
});

const api = (path: string) => `http://127.0.0.1:${e.edge.apiPort}${path}`;

test('DELETE and PATCH on the Location reach the origin that created the session, unchanged', async () => {
  for (let i = 0; i < 6; i++) {
    const res = await request(api(`/rtc/v1/whip/?app=live&stream=r${i}`), { method: 'POST', body: offerSdp(`Cr${i}`) });
    await res.body.text();
    assert.equal(res.statusCode, 201);
    const location = String(res.headers.location);
    const owner = [o1, o2].find((o) => o.requests.some((r) => r.method === 'POST' && r.url.includes(`stream=r${i}`)))!;
    const other = owner === o1 ? o2 : o1;
    const otherBefore = other.requests.length;

    const del = await request(api(location), { method: 'DELETE' });
    assert.equal(await del.body.text(), '');
    assert.equal(del.statusCode, 200);
    assert.equal(del.headers['x-srs-deleted'], '1');
    assert.equal(del.headers['access-control-allow-origin'], '*');
    const seen = owner.requests.at(-1)!;
    assert.equal(seen.method, 'DELETE');
    assert.equal(seen.url, `/rtc/v1/whip/?action=delete&token=t0k3n&app=live&stream=r${i}&session=0o7s4d72:x`, 'srsp params stripped');

    const patch = await request(api(location), { method: 'PATCH', body: 'a=candidate:1 1 udp 1 1.2.3.4 5 typ host', headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': '"v1"' } });
    await patch.body.dump();
    assert.equal(patch.statusCode, 204);
    assert.equal(patch.headers.etag, '"v2"');
    const p = owner.requests.at(-1)!;
    assert.equal(p.method, 'PATCH');
    assert.equal(p.headers['content-type'], 'application/trickle-ice-sdpfrag');
    assert.equal(p.headers['if-match'], '"v1"');
    assert.equal(p.body, 'a=candidate:1 1 udp 1 1.2.3.4 5 typ host');
    assert.equal(other.requests.length, otherBefore, 'never the other origin');
  }
});

test('a Location outside /rtc/v1/ comes back through srsp_resource; /api/ paths are refused', async () => {
  // Each origin answers with an absolute Location on its own API address.
  for (const o of [o1, o2]) {
    o.respond = (r) => (r.method === 'POST'
      ? { status: 201, headers: { location: `http://127.0.0.1:${o.port}/whip/res/42?k=v` }, body: SRS_ANSWER }
      : { status: 200, body: `deleted ${r.url}` });
  }
  try {
    const res = await request(api('/rtc/v1/whip/?app=live&stream=ext'), { method: 'POST', body: offerSdp('Cext') });
    await res.body.text();
    assert.equal(res.statusCode, 201);
    const location = String(res.headers.location);
    assert.match(location, /^\/rtc\/v1\/whip\/\?srsp_origin=(one|two)-svc-1&srsp_session=[^&]+&srsp_resource=%2Fwhip%2Fres%2F42%3Fk%3Dv$/);
    const del = await request(api(location), { method: 'DELETE' });
    assert.equal(await del.body.text(), 'deleted /whip/res/42?k=v');
    const evil = await request(api(`/rtc/v1/whip/?srsp_origin=one-svc-1&srsp_resource=${encodeURIComponent('/api/v1/clients/1')}`), { method: 'DELETE' });
    await evil.body.dump();
    assert.equal(evil.statusCode, 403);
    const gone = await request(api('/rtc/v1/whip/?srsp_origin=nope&app=live&stream=ext'), { method: 'DELETE' });
    await gone.body.dump();
    assert.equal(gone.statusCode, 404);
  } finally {
    o1.respond = undefined;
    o2.respond = undefined;
  }
});

