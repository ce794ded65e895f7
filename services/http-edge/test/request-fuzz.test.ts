import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startHarness, startHttpOrigin, originBody, rawRequest, type Harness } from './support.ts';

/** Deterministic PRNG so a failure is reproducible from the seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Requests per run: enough to hit every route with odd input, bounded for a 2-core machine. */
const REQUESTS = 300;
const PIECES = ['/', 'live', 'a', '.flv', '.ts', '.m3u8', '.mpd', '.m4s', '?', '&', '=', 'spbhid=', 'spbhid=abc1234', 'app=', 'stream=', 'hls_ctx=x',
  '%', '%2e', '%2f', '%00', '%ff', '%C3%A9', '..', '.', '//', '#', ';', '~', '\\', 'api/v1/versions', 'index.html'];
const HOSTS = ['127.0.0.1:1', 'example.com', 'a.b.c:99', '[::1]:8080', '', 'x:y:z'];

let h: Harness;
let origin: Awaited<ReturnType<typeof startHttpOrigin>>;
before(async () => {
  h = await startHarness();
  // An origin that answers everything: a playlist for .m3u8, a manifest for .mpd, bytes otherwise.
  origin = await startHttpOrigin((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (path.endsWith('.m3u8')) res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end('#EXTM3U\n#EXTINF:1,\nseg-1.ts\n#EXT-X-MAP:URI="init.mp4"\n');
    else if (path.endsWith('.mpd')) res.writeHead(200, { 'content-type': 'application/dash+xml' }).end('<MPD><SegmentTemplate media="m-$Number$.m4s"/></MPD>');
    else res.writeHead(200, { 'content-type': 'video/x-flv' }).end(Buffer.alloc(1024, 1));
  });
  assert.equal(await h.register(originBody(origin.port, 'fuzz')), 200);
});
after(async () => {
  await h.close();
  await origin.close();
});

test('random request targets and Host headers: every request gets a complete HTTP answer, the edge stays up', async () => {
  const rand = prng(0x5eed);
  const statuses = new Map<number, number>();
  for (let i = 0; i < REQUESTS; i++) {
    let target = '/';
    const n = 1 + Math.floor(rand() * 10);
    for (let k = 0; k < n; k++) target += PIECES[Math.floor(rand() * PIECES.length)];
    const host = HOSTS[Math.floor(rand() * HOSTS.length)];
    const method = ['GET', 'HEAD', 'OPTIONS', 'POST'][Math.floor(rand() * 4)];
    const raw = await rawRequest(h.port, `${method} ${target} HTTP/1.1\r\n${host ? `Host: ${host}\r\n` : ''}Connection: close\r\n\r\n`);
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1]);
    assert.ok(status >= 200 && status < 600, `#${i} ${method} ${target} (Host ${host}) → ${JSON.stringify(raw.slice(0, 120))}`);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  // No request may have crashed into an internal error.
  assert.equal(statuses.get(500) ?? 0, 0, `statuses: ${JSON.stringify([...statuses])}`);
  const r = await request(`http://127.0.0.1:${h.port}/api/v1/versions`);
  assert.equal(r.statusCode, 200);
  await r.body.text();
  assert.equal(h.edge.activeRelays, 0, 'every relay closed');
});
