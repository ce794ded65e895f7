import { test } from 'node:test';
import assert from 'node:assert/strict';
import { originRequestHeaders, clientResponseHeaders } from '../src/headers.ts';

test('origin request: end-to-end headers kept, hop-by-hop and Connection-listed ones dropped, client address added', () => {
  const out = originRequestHeaders(
    {
      host: 'proxy:18080',
      connection: 'keep-alive, x-private',
      'keep-alive': 'timeout=5',
      'x-private': 'secret',
      te: 'trailers',
      'user-agent': 'ffmpeg',
      range: 'bytes=0-99',
      cookie: 'a=b',
      'x-forwarded-for': '203.0.113.7',
      'x-real-ip': '198.51.100.1',
    },
    { clientIp: '::ffff:10.1.2.3', forRewrite: false },
  );
  assert.deepEqual(out, { 'user-agent': 'ffmpeg', range: 'bytes=0-99', cookie: 'a=b', 'x-forwarded-for': '203.0.113.7, 10.1.2.3', 'x-real-ip': '10.1.2.3' });
});

test('origin request for a document to rewrite: no compression, no validators, no ranges', () => {
  const out = originRequestHeaders(
    { 'accept-encoding': 'gzip, br', 'if-none-match': '"x"', 'if-modified-since': 'Tue, 15 Oct 2024 00:00:00 GMT', range: 'bytes=0-1', accept: '*/*' },
    { clientIp: '127.0.0.1', forRewrite: true },
  );
  assert.deepEqual(out, { accept: '*/*', 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1' });
});

test('client response: origin end-to-end headers kept (multi-valued too), hop-by-hop dropped, CORS ours', () => {
  const out = clientResponseHeaders(
    {
      'content-type': 'video/x-flv',
      'transfer-encoding': 'chunked',
      connection: 'close, x-hop',
      'x-hop': '1',
      'set-cookie': ['a=1', 'b=2'],
      'access-control-allow-origin': 'https://only.example',
      'content-length': '10',
      server: 'SRS/7.0.18',
    },
    { cors: true, drop: new Set(['content-length']) },
  );
  assert.deepEqual(out, {
    'content-type': 'video/x-flv',
    'set-cookie': ['a=1', 'b=2'],
    server: 'SRS/7.0.18',
    'access-control-allow-origin': '*',
    'access-control-allow-headers': '*',
    'access-control-allow-methods': '*',
  });
});
