import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startHarness, originBody, refusedPort, type Harness } from './support.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

test('no origin registered: 503 with a short text and CORS, no addresses or ids, details logged', async () => {
  for (const path of ['/live/x.flv', '/live/x.ts', '/live/x.m3u8', '/live/x.mpd']) {
    const r = await request(`http://127.0.0.1:${h.port}${path}`);
    const text = await r.body.text();
    assert.equal(r.statusCode, 503, path);
    assert.equal(text, 'no origin server available for this stream\n');
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  }
  assert.ok(h.logs.lines.some((l) => l.code === 'SRSP_ERR_NO_ORIGIN' && String(l.err).includes('__defaultVhost__/live/x')));
});

test('the only origin refuses connections: reported, retried once, then 502 naming nothing', async () => {
  const port = await refusedPort();
  const body = originBody(port, 'dead');
  assert.equal(await h.register(body), 200);
  const r = await request(`http://127.0.0.1:${h.port}/live/dead.flv`);
  const text = await r.body.text();
  // Failover finds no other origin: the client is told the origin is unreachable.
  assert.equal(r.statusCode, 502);
  assert.equal(text, 'origin server unreachable\n');
  assert.ok(!text.includes('127.0.0.1') && !text.includes(String(port)) && !text.includes('vid-'), text);
  assert.ok(h.logs.matching(/origin unreachable, reporting it/).length >= 1);
});

test('unknown HLS session id: 404 with a clear text, not a 500', async () => {
  for (const path of ['/live/a-1.ts?spbhid=abcdef0', '/live/a.m3u8?spbhid=abcdef0', '/live/a-1.m4s?spbhid=../../x', '/live/a.mpd?spbhid=nope']) {
    const r = await request(`http://127.0.0.1:${h.port}${path}`);
    const text = await r.body.text();
    assert.equal(r.statusCode, 404, path);
    assert.match(text, /unknown or expired HLS session id/);
  }
});

test('registry unreachable (bus closed): 503, the edge keeps serving static files', async () => {
  const h2 = await startHarness();
  try {
    await h2.bus.close();
    const r = await request(`http://127.0.0.1:${h2.port}/live/x.flv`);
    assert.equal(r.statusCode, 503);
    assert.equal(await r.body.text(), 'stream routing temporarily unavailable\n');
    const s = await request(`http://127.0.0.1:${h2.port}/`);
    assert.equal(s.statusCode, 200);
    assert.match(await s.body.text(), /srs-proxy/);
  } finally {
    await h2.close();
  }
});
