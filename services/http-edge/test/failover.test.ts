import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { startHarness, startHttpOrigin, originBody, refusedPort, type Harness } from './support.ts';

let h: Harness;
let live: Awaited<ReturnType<typeof startHttpOrigin>>;
const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];

before(async () => {
  h = await startHarness();
  live = await startHttpOrigin((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'video/x-flv', 'x-origin': 'live', connection: 'keep-alive', 'keep-alive': 'timeout=5' });
    res.end(Buffer.from('FLV\x01\x05\x00\x00\x00\x09', 'latin1'));
  });
});
after(async () => {
  await h.close();
  await live.close();
});

test('a mapped origin that refuses connections is reported and the request retried on a fresh pick', async () => {
  const deadPort = await refusedPort();
  const dead = originBody(deadPort, 'dead') as { server: string; service: string; pid: string };
  assert.equal(await h.register(dead), 200);
  const stream = '__defaultVhost__/live/failover';
  // The stream is placed on the dead origin before the live one exists (as after an origin crash).
  const first = await h.balancer.pick(stream, { protocol: 'http' });
  assert.equal(first.origin.id, `${dead.server}-${dead.service}-${dead.pid}`);
  const liveBody = originBody(live.port, 'live') as { server: string; service: string; pid: string };
  assert.equal(await h.register(liveBody), 200);

  const r = await request(`http://127.0.0.1:${h.port}/live/failover.flv?token=abc`, { headers: { 'x-forwarded-for': '10.0.0.9', 'user-agent': 'player/1' } });
  const body = Buffer.from(await r.body.arrayBuffer());
  assert.equal(r.statusCode, 200);
  assert.equal(body.subarray(0, 3).toString(), 'FLV');
  // The origin's end-to-end headers reach the client; hop-by-hop ones do not; CORS is ours.
  assert.equal(r.headers['content-type'], 'video/x-flv');
  assert.equal(r.headers['x-origin'], 'live');
  assert.equal(r.headers['access-control-allow-origin'], '*');

  // The query is kept; the client's address is added; end-to-end request headers are forwarded.
  const got = seen.at(-1)!;
  assert.equal(got.url, '/live/failover.flv?token=abc');
  assert.equal(got.headers['x-forwarded-for'], '10.0.0.9, 127.0.0.1');
  assert.equal(got.headers['x-real-ip'], '127.0.0.1');
  assert.equal(got.headers['user-agent'], 'player/1');

  assert.equal(await h.metric('srsp_http_edge_origin_failovers_total'), 1);
  const now = await h.balancer.pick(stream, { protocol: 'http' });
  assert.equal(now.origin.id, `${liveBody.server}-${liveBody.service}-${liveBody.pid}`, 'the mapping moved to the live origin');
  assert.ok(h.logs.matching(/origin unreachable, reporting it/).some((l) => l.stream === stream));
});

test('an origin error status is passed through with its body, not turned into a 500', async () => {
  const h2 = await startHarness();
  const o = await startHttpOrigin((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('stream not found');
  });
  try {
    assert.equal(await h2.register(originBody(o.port, 'nf')), 200);
    const r = await request(`http://127.0.0.1:${h2.port}/live/missing.flv`);
    assert.equal(r.statusCode, 404);
    assert.equal(await r.body.text(), 'stream not found');
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.headers['access-control-allow-origin'], '*');
  } finally {
    await h2.close();
    await o.close();
  }
});
