import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startHarness, type Harness } from './support.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

test('GET /api/v1/versions answers the Go proxy body and headers, any method, no CORS', async () => {
  for (const method of ['GET', 'POST'] as const) {
    const r = await request(`http://127.0.0.1:${h.port}/api/v1/versions`, { method });
    const body = await r.body.json();
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers.server, 'SRSProxy/1.5.0');
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.deepEqual(body, { code: 0, pid: String(process.pid), data: { major: 1, minor: 5, revision: 0, version: '1.5.0' } });
  }
});

test('OPTIONS on every stream route answers 200, empty, with CORS, without asking an origin', async () => {
  for (const path of ['/live/a.flv', '/live/a.ts', '/live/a.m3u8', '/live/a-1.ts?spbhid=zzzzzzz', '/live/a.mpd']) {
    const r = await request(`http://127.0.0.1:${h.port}${path}`, { method: 'OPTIONS' });
    assert.equal(await r.body.text(), '');
    assert.equal(r.statusCode, 200, path);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['access-control-allow-headers'], '*');
    assert.equal(r.headers['access-control-allow-methods'], '*');
  }
});

test('methods other than GET/HEAD/OPTIONS on stream routes get 405 with CORS', async () => {
  const r = await request(`http://127.0.0.1:${h.port}/live/a.flv`, { method: 'POST', body: 'x' });
  await r.body.text();
  assert.equal(r.statusCode, 405);
  assert.equal(r.headers['access-control-allow-origin'], '*');
  assert.match(String(r.headers.allow), /GET/);
});

test('requests are counted by kind and status', async () => {
  const before = await h.metric('srsp_http_edge_requests_total', { kind: 'versions', status: '200' });
  const r = await request(`http://127.0.0.1:${h.port}/api/v1/versions`);
  await r.body.text();
  // The count lands when the response closes, just after the client read it.
  const deadline = Date.now() + 2000;
  while ((await h.metric('srsp_http_edge_requests_total', { kind: 'versions', status: '200' })) === before && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.equal(await h.metric('srsp_http_edge_requests_total', { kind: 'versions', status: '200' }), before + 1);
});
