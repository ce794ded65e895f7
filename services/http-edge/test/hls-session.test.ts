import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startHarness, startHttpOrigin, originBody, type Harness } from './support.ts';

interface Doc {
  type: string;
  body: string | Buffer;
  status?: number;
}

/**
 * An origin serving fixed documents by path, recording each request. Like SRS, the playlist
 * `/live/livestream.m3u8` is a master pointing at itself with `hls_ctx` until asked with one.
 */
async function docOrigin(name: string, docs: (port: number) => Record<string, Doc>) {
  const hits: string[] = [];
  let table: Record<string, Doc> = {};
  const o = await startHttpOrigin((req, res) => {
    hits.push(req.url ?? '');
    const [path = '', query = ''] = (req.url ?? '').split('?');
    const doc = path === '/live/livestream.m3u8' && query.includes('hls_ctx=') ? MEDIA_WITH_CTX : table[path];
    if (!doc) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`${name}: not found`);
      return;
    }
    res.writeHead(doc.status ?? 200, { 'content-type': doc.type, etag: '"v1"', 'last-modified': 'Tue, 15 Oct 2024 00:00:00 GMT' });
    res.end(req.method === 'HEAD' ? undefined : doc.body);
  });
  table = docs(o.port);
  return { ...o, hits, name };
}

const MEDIA_WITH_CTX: Doc = { type: 'application/vnd.apple.mpegurl', body: '#EXTM3U\n#EXTINF:10.000, no desc\nlivestream-1.ts?hls_ctx=7h1p3e06\n' };
const SEGMENT = Buffer.alloc(188 * 10, 0x47);
let h: Harness;
let a: Awaited<ReturnType<typeof docOrigin>>;
let b: Awaited<ReturnType<typeof docOrigin>>;

function docs(port: number): Record<string, Doc> {
  return {
    '/live/livestream.m3u8': { type: 'application/vnd.apple.mpegurl', body: '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\n/live/livestream.m3u8?hls_ctx=7h1p3e06\n' },
    '/live/abs.m3u8': { type: 'application/vnd.apple.mpegurl', body: `#EXTM3U\n#EXT-X-MAP:URI="http://127.0.0.1:${port}/live/init.mp4"\n#EXTINF:2,\nhttp://127.0.0.1:${port}/live/abs-1.m4s\n#EXTINF:2,\nhttps://cdn.example.net/abs-2.m4s\n` },
    '/live/livestream-1.ts': { type: 'video/MP2T', body: SEGMENT },
    '/live/init.mp4': { type: 'video/mp4', body: Buffer.from('ftyp') },
    '/live/abs-1.m4s': { type: 'video/iso.segment', body: Buffer.from('moof') },
    '/live/notm3u8.m3u8': { type: 'text/html', body: '<html>oops</html>' },
    '/live/huge.m3u8': { type: 'application/vnd.apple.mpegurl', body: `#EXTM3U\n${'#EXTINF:1,\nseg.ts\n'.repeat(8000)}` },
    '/live/s1.mpd': { type: 'application/dash+xml', body: '<?xml version="1.0"?>\n<MPD type="dynamic"><Period><AdaptationSet><Representation id="v"><SegmentTemplate media="s1-$Time$.m4v" initialization="s1-init.m4v"/></Representation></AdaptationSet></Period></MPD>\n' },
    '/live/s1-init.m4v': { type: 'video/mp4', body: Buffer.from('init') },
  };
}

before(async () => {
  h = await startHarness({ limits: { maxDocumentBytes: 64 * 1024 } });
  a = await docOrigin('A', docs);
  b = await docOrigin('B', docs);
  assert.equal(await h.register(originBody(a.port, 'A')), 200);
  // Every stream of this suite is placed on A before B exists; stickiness keeps it there.
  for (const s of ['livestream', 'abs', 'notm3u8', 'huge', 's1']) await h.balancer.pick(`__defaultVhost__/live/${s}`, { protocol: 'http' });
  assert.equal(await h.register(originBody(b.port, 'B')), 200);
});
after(async () => {
  await h.close();
  await a.close();
  await b.close();
});

async function get(path: string, method: 'GET' | 'HEAD' = 'GET') {
  const r = await request(`http://127.0.0.1:${h.port}${path}`, { method, headers: { 'accept-encoding': 'gzip', 'if-none-match': '"v1"' } });
  const body = Buffer.from(await r.body.arrayBuffer());
  return { status: r.statusCode, headers: r.headers, body, text: body.toString() };
}

test('hls_ctx master → media → segment: every request carries the session id and reaches the session origin', async () => {
  const master = await get('/live/livestream.m3u8');
  assert.equal(master.status, 200);
  assert.equal(master.headers['content-type'], 'application/vnd.apple.mpegurl');
  assert.equal(master.headers['access-control-allow-origin'], '*');
  assert.equal(master.headers.etag, undefined, 'validators of the origin do not describe the rewritten body');
  assert.equal(Number(master.headers['content-length']), master.body.length);
  const m = /^\/live\/livestream\.m3u8\?spbhid=([0-9a-f]{7})&hls_ctx=7h1p3e06$/m.exec(master.text);
  assert.ok(m, master.text);
  const id = m[1]!;

  const media = await get(`/live/livestream.m3u8?spbhid=${id}&hls_ctx=7h1p3e06`);
  assert.equal(media.status, 200);
  assert.match(media.text, new RegExp(`^livestream-1\\.ts\\?spbhid=${id}&hls_ctx=7h1p3e06$`, 'm'));

  const seg = await get(`/live/livestream-1.ts?spbhid=${id}&hls_ctx=7h1p3e06`);
  assert.equal(seg.status, 200);
  assert.equal(seg.headers['content-type'], 'video/MP2T');
  assert.deepEqual(seg.body, SEGMENT);
  assert.equal(seg.headers.etag, '"v1"', 'segments keep the origin headers');

  assert.ok(a.hits.includes(`/live/livestream-1.ts?spbhid=${id}&hls_ctx=7h1p3e06`), 'the origin gets the full query');
  assert.deepEqual(b.hits, [], 'nothing reached the other origin');
});

test('absolute URIs on the origin come back through the proxy; foreign ones are left alone', async () => {
  const r = await get('/live/abs.m3u8');
  assert.equal(r.status, 200);
  const id = /spbhid=([0-9a-f]{7})/.exec(r.text)?.[1];
  assert.ok(id, r.text);
  assert.equal(r.text, `#EXTM3U\n#EXT-X-MAP:URI="/live/init.mp4?spbhid=${id}"\n#EXTINF:2,\n/live/abs-1.m4s?spbhid=${id}\n#EXTINF:2,\nhttps://cdn.example.net/abs-2.m4s\n`);
  const init = await get(`/live/init.mp4?spbhid=${id}`);
  assert.equal(init.status, 200);
  assert.equal(init.text, 'ftyp');
  const seg = await get(`/live/abs-1.m4s?spbhid=${id}`);
  assert.equal(seg.headers['content-type'], 'video/iso.segment');
  assert.equal(seg.text, 'moof');
});

test('DASH: the manifest templates carry the session id and segments follow it', async () => {
  const r = await get('/live/s1.mpd');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/dash+xml');
  const id = /media="s1-\$Time\$\.m4v\?spbhid=([0-9a-f]{7})"/.exec(r.text)?.[1];
  assert.ok(id, r.text);
  assert.match(r.text, new RegExp(`initialization="s1-init\\.m4v\\?spbhid=${id}"`));
  const init = await get(`/live/s1-init.m4v?spbhid=${id}`);
  assert.equal(init.status, 200);
  assert.equal(init.text, 'init');
});

test('a 200 that is not a playlist, or a playlist over the size limit, is a 502 with a generic text', async () => {
  for (const path of ['/live/notm3u8.m3u8', '/live/huge.m3u8']) {
    const r = await get(path);
    assert.equal(r.status, 502, path);
    assert.equal(r.text, 'origin server sent an invalid response\n');
  }
});

test('an origin 404 for a playlist, and HEAD requests, pass through unmodified', async () => {
  const r = await get('/live/gone.m3u8');
  assert.equal(r.status, 404);
  assert.match(r.text, /not found/);
  const head = await get('/live/livestream.m3u8', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-type'], 'application/vnd.apple.mpegurl');
  assert.equal(head.body.length, 0);
});
