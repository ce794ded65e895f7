import { test } from 'node:test';
import assert from 'node:assert/strict';
import { originRequestHeaders, clientResponseHeaders, headerValue } from '../src/headers.ts';

/** A flat header list as [name, value] pairs, for readable comparisons. */
function pairs(list: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < list.length; i += 2) out.push([list[i]!, list[i + 1]!]);
  return out;
}

test('origin request: end-to-end headers kept, hop-by-hop and Connection-listed ones dropped, client address added', () => {
  const out = originRequestHeaders(
    [
      'Host', 'proxy:18080',
      'Connection', 'keep-alive, X-Private, x-forwarded-for',
      'Keep-Alive', 'timeout=5',
      'X-Private', 'secret',
      'TE', 'trailers',
      'User-Agent', 'ffmpeg',
      'Range', 'bytes=0-99',
      'Cookie', 'a=b',
      'X-Forwarded-For', '203.0.113.7',
      'x-forwarded-for', '192.0.2.1',
      'X-Real-IP', '198.51.100.1',
    ],
    { clientIp: '::ffff:10.1.2.3', forRewrite: false },
  );
  assert.deepEqual(pairs(out), [
    ['user-agent', 'ffmpeg'],
    ['range', 'bytes=0-99'],
    ['cookie', 'a=b'],
    ['x-forwarded-for', '203.0.113.7, 192.0.2.1, 10.1.2.3'],
    ['x-real-ip', '10.1.2.3'],
  ]);
});

test('origin request for a document to rewrite (or a segment to share): no compression, no validators, no ranges', () => {
  const out = originRequestHeaders(
    ['Accept-Encoding', 'gzip, br', 'If-None-Match', '"x"', 'If-Modified-Since', 'Tue, 15 Oct 2024 00:00:00 GMT', 'Range', 'bytes=0-1', 'Accept', '*/*'],
    { clientIp: '127.0.0.1', forRewrite: true },
  );
  assert.deepEqual(pairs(out), [['accept', '*/*'], ['x-forwarded-for', '127.0.0.1'], ['x-real-ip', '127.0.0.1']]);
});

test('client response: origin end-to-end headers kept (multi-valued too), hop-by-hop dropped, CORS ours', () => {
  const out = clientResponseHeaders(
    [
      'content-type', 'video/x-flv',
      'transfer-encoding', 'chunked',
      'connection', 'close, x-hop',
      'x-hop', '1',
      'set-cookie', 'a=1',
      'set-cookie', 'b=2',
      'access-control-allow-origin', 'https://only.example',
      'content-length', '10',
      'server', 'SRS/7.0.18',
    ],
    { cors: true, drop: new Set(['content-length']) },
  );
  assert.deepEqual(pairs(out), [
    ['content-type', 'video/x-flv'],
    ['set-cookie', 'a=1'],
    ['set-cookie', 'b=2'],
    ['server', 'SRS/7.0.18'],
    ['access-control-allow-origin', '*'],
    ['access-control-allow-headers', '*'],
    ['access-control-allow-methods', '*'],
  ]);
  assert.equal(headerValue(out, 'set-cookie'), 'a=1');
  assert.equal(headerValue(out, 'etag'), undefined);
});
