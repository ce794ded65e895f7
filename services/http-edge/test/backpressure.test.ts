import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'undici';
import type { ServerResponse } from 'node:http';
import { startHarness, startHttpOrigin, originBody, waitUntil, type Harness } from './support.ts';

/** What the endless origin saw of one response. */
interface OriginStream {
  written: number;
  /** Times its write() returned false (the edge stopped reading: backpressure reached it). */
  stalls: number;
  closed: boolean;
  path: string;
}

const streams: OriginStream[] = [];
const CHUNK = Buffer.alloc(64 * 1024, 0x42);

/** Writes 64 KiB chunks as fast as the edge accepts them, forever (a live stream with no pacing). */
function pump(res: ServerResponse, s: OriginStream): void {
  while (!res.destroyed) {
    s.written += CHUNK.length;
    if (!res.write(CHUNK)) {
      s.stalls++;
      res.once('drain', () => pump(res, s));
      return;
    }
  }
}

let h: Harness;
let origin: Awaited<ReturnType<typeof startHttpOrigin>>;
before(async () => {
  h = await startHarness({ limits: { clientWindowBytes: 64 * 1024, maxClientBufferBytes: 4 * 1024 * 1024, slowClientTimeoutMs: 1_000 } });
  origin = await startHttpOrigin((req, res) => {
    const s: OriginStream = { written: 0, stalls: 0, closed: false, path: req.url ?? '' };
    streams.push(s);
    res.on('close', () => (s.closed = true));
    if (req.url?.startsWith('/live/broken')) {
      res.writeHead(200, { 'content-type': 'video/x-flv' });
      res.write(CHUNK);
      setTimeout(() => res.destroy(), 100);
      return;
    }
    res.writeHead(200, { 'content-type': 'video/x-flv' });
    pump(res, s);
  });
  assert.equal(await h.register(originBody(origin.port, 'endless')), 200);
});
after(async () => {
  await h.close();
  await origin.close();
});

test('a client that stops reading pauses the origin, then is dropped after the stall limit, and the origin request closes', async () => {
  const client = connect(h.port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  client.write('GET /live/slow.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  // Never read: the kernel buffers fill, then the edge's queue, then the edge must pause the origin.
  client.pause();
  const started = Date.now();
  await waitUntil(() => streams.some((s) => s.path === '/live/slow.flv'), 5_000, 'origin request');
  const s = streams.find((x) => x.path === '/live/slow.flv')!;
  await waitUntil(() => s.closed, 15_000, 'origin request closed by the edge');
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 1_000, `dropped after ${elapsed} ms, before the stall limit`);
  assert.ok(s.stalls >= 1, 'the origin felt backpressure');
  // Bounded: kernel socket buffers on both sides plus the edge's window, never the stream.
  assert.ok(s.written < 64 * 1024 * 1024, `origin wrote ${s.written} bytes`);
  await waitUntil(async () => (await h.metric('srsp_http_edge_slow_clients_dropped_total', { kind: 'flv' })) === 1, 2_000, 'slow client metric');
  const line = h.logs.matching(/dropped slow client/).at(-1);
  assert.ok(line, 'the drop is logged');
  assert.equal(line.stream, '__defaultVhost__/live/slow');
  client.destroy();
  await waitUntil(async () => (await h.metric('srsp_http_edge_active_streams', { kind: 'flv' })) === 0, 2_000, 'active streams back to 0');
});

test('a client that goes away mid-stream closes the origin request at once', async () => {
  const r = await request(`http://127.0.0.1:${h.port}/live/leave.flv`);
  let got = 0;
  for await (const chunk of r.body) {
    got += (chunk as Buffer).length;
    if (got > 1024 * 1024) break;
  }
  assert.ok(got > 1024 * 1024);
  const s = streams.find((x) => x.path === '/live/leave.flv')!;
  await waitUntil(() => s.closed, 2_000, 'origin request closed');
  await waitUntil(() => h.logs.matching(/HTTP client done/).some((l) => l.reason === 'client-gone' && l.stream === '__defaultVhost__/live/leave'), 2_000, 'close logged');
  assert.equal(await h.metric('srsp_http_edge_active_streams', { kind: 'flv' }), 0);
});

test('an origin that breaks mid-stream cuts the client response: no error text appended, no clean end', async () => {
  const r = await request(`http://127.0.0.1:${h.port}/live/broken.flv`);
  assert.equal(r.statusCode, 200);
  let got = 0;
  await assert.rejects(async () => {
    for await (const chunk of r.body) got += (chunk as Buffer).length;
  });
  assert.equal(got, CHUNK.length);
  await waitUntil(() => h.logs.matching(/origin stream broke/).length === 1, 2_000, 'origin break logged');
});
