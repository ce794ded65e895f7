import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeStreamUrl, streamUrlFromRtmp, streamUrlFromHttp, streamUrlFromSrt, StreamUrlError } from '../src/index.ts';
import { vhostOf, pathExt, DEFAULT_VHOST } from '../src/stream-url.ts';

const D = DEFAULT_VHOST;

describe('normalizeStreamUrl (spec 4.2)', () => {
  const table: Array<[string, string, string]> = [
    ['IPv4 host → default vhost', 'rtmp://1.2.3.4/live/s', `${D}/live/s`],
    ['IPv4 host with port', 'http://1.2.3.4:18080/live/s', `${D}/live/s`],
    ['localhost → default vhost', 'rtmp://localhost/live/s', `${D}/live/s`],
    ['bare name without a dot → default vhost', 'rtmp://origin/live/s', `${D}/live/s`],
    ['IPv6 literal → default vhost', 'rtmp://[::1]:1935/live/s', `${D}/live/s`],
    ['IPv6 literal without port', 'http://[2001:db8::1]/live/s', `${D}/live/s`],
    ['domain kept as vhost', 'rtmp://example.com/live/s', 'example.com/live/s'],
    ['domain with port: port dropped', 'rtmp://example.com:1935/live/s', 'example.com/live/s'],
    ['no case folding of the vhost', 'rtmp://Example.COM/live/s', 'Example.COM/live/s'],
    ['no case folding of the path', 'rtmp://1.2.3.4/Live/S', `${D}/Live/S`],
    ['query dropped', 'rtmp://1.2.3.4/live/s?token=abc&x=1', `${D}/live/s`],
    ['fragment dropped', 'http://1.2.3.4/live/s#frag', `${D}/live/s`],
    ['percent-decoding of the path', 'rtmp://1.2.3.4/live/a%20b', `${D}/live/a b`],
    ['percent-decoded UTF-8', 'rtmp://1.2.3.4/live/%E6%B5%81', `${D}/live/流`],
    ['double slash kept', 'rtmp://1.2.3.4/live//x', `${D}/live//x`],
    ['trailing slash kept', 'rtmp://1.2.3.4/live/x/', `${D}/live/x/`],
    ['IPv4-looking with 5 parts is a domain', 'rtmp://1.2.3.4.5/live/s', '1.2.3.4.5/live/s'],
    ['out-of-range octet is a domain', 'rtmp://256.1.1.1/live/s', '256.1.1.1/live/s'],
    ['userinfo ignored', 'rtmp://user:pw@example.com/live/s', 'example.com/live/s'],
    ['vhost= query ignored', 'rtmp://1.2.3.4/live/s?vhost=v.example.com', `${D}/live/s`],
  ];
  for (const [what, input, want] of table) {
    it(`${what}: ${input}`, () => assert.equal(normalizeStreamUrl(input), want));
  }

  it('a malformed escape is a StreamUrlError', () => {
    assert.throws(() => normalizeStreamUrl('rtmp://1.2.3.4/live/a%zz'), (e: unknown) => e instanceof StreamUrlError && e.code === 'SRSP_ERR_BAD_STREAM_URL');
    assert.throws(() => normalizeStreamUrl('rtmp://1.2.3.4/live/a%2'), StreamUrlError);
  });
  it('an unterminated IPv6 literal is a StreamUrlError', () => {
    assert.throws(() => normalizeStreamUrl('rtmp://[::1/live/s'), StreamUrlError);
  });
  it('an overlong URL is a StreamUrlError', () => {
    assert.throws(() => normalizeStreamUrl(`rtmp://1.2.3.4/live/${'a'.repeat(5000)}`), StreamUrlError);
  });
  it('vhostOf', () => {
    assert.equal(vhostOf('localhost'), D);
    assert.equal(vhostOf('10.0.0.1'), D);
    assert.equal(vhostOf('a.b'), 'a.b');
  });
});

describe('streamUrlFromRtmp (tcUrl + "/" + stream name)', () => {
  const table: Array<[string, string, string, string]> = [
    ['plain', 'rtmp://1.2.3.4/live', 'livestream', `${D}/live/livestream`],
    ['domain vhost', 'rtmp://example.com/live', 'livestream', 'example.com/live/livestream'],
    ['stream name query dropped', 'rtmp://127.0.0.1:11935/live', 'livestream?token=x', `${D}/live/livestream`],
    // Quirk kept for compatibility: a query in the tcUrl swallows the stream name.
    ['tcUrl with query swallows the name', 'rtmp://h/live?vhost=v.com', 'livestream', `${D}/live`],
    ['tcUrl with query, domain host', 'rtmp://example.com/live?k=v', 'other', 'example.com/live'],
    ['percent-encoded name', 'rtmp://1.2.3.4/live', 'a%20b', `${D}/live/a b`],
    ['multi-level app', 'rtmp://1.2.3.4/live/sub', 's', `${D}/live/sub/s`],
    ['IPv6 tcUrl', 'rtmp://[::1]:1935/live', 's', `${D}/live/s`],
  ];
  for (const [what, tcUrl, name, want] of table) {
    it(`${what}: ${tcUrl} + ${name}`, () => assert.equal(streamUrlFromRtmp(tcUrl, name), want));
  }
});

describe('streamUrlFromSrt', () => {
  it('no h= → localhost → default vhost', () => assert.equal(streamUrlFromSrt(undefined, 'live/livestream'), `${D}/live/livestream`));
  it('empty h= → localhost', () => assert.equal(streamUrlFromSrt('', 'live/s'), `${D}/live/s`));
  it('domain h= is the vhost', () => assert.equal(streamUrlFromSrt('example.com', 'live/s'), 'example.com/live/s'));
  it('IPv4 h= → default vhost', () => assert.equal(streamUrlFromSrt('10.1.2.3', 'live/s'), `${D}/live/s`));
});

describe('streamUrlFromHttp (spec 6.2)', () => {
  const req = (host: string | undefined, pathAndQuery: string) => {
    const q = pathAndQuery.indexOf('?');
    return {
      host,
      path: q >= 0 ? pathAndQuery.slice(0, q) : pathAndQuery,
      query: new URLSearchParams(q >= 0 ? pathAndQuery.slice(q + 1) : ''),
    };
  };
  const table: Array<[string, string | undefined, string, { key: string; unified: string; full: string; ext: string }]> = [
    ['FLV with IP host and port', '1.2.3.4:18080', '/live/s.flv', { key: `${D}/live/s`, unified: 'http://1.2.3.4/live/s', full: 'http://1.2.3.4/live/s.flv', ext: '.flv' }],
    ['domain with port keeps the vhost', 'example.com:18080', '/live/s.flv', { key: 'example.com/live/s', unified: 'http://example.com/live/s', full: 'http://example.com/live/s.flv', ext: '.flv' }],
    // Quirk kept: no port in Host → default vhost even for a domain.
    ['domain without port → default vhost', 'example.com', '/live/s.flv', { key: `${D}/live/s`, unified: `http://${D}/live/s`, full: `http://${D}/live/s.flv`, ext: '.flv' }],
    ['no Host header', undefined, '/live/s.ts', { key: `${D}/live/s`, unified: `http://${D}/live/s`, full: `http://${D}/live/s.ts`, ext: '.ts' }],
    ['localhost with port', 'localhost:18080', '/live/s.m3u8', { key: `${D}/live/s`, unified: 'http://localhost/live/s', full: 'http://localhost/live/s.m3u8', ext: '.m3u8' }],
    ['IPv6 host with port', '[::1]:18080', '/live/s.flv', { key: `${D}/live/s`, unified: 'http://[::1]/live/s', full: 'http://[::1]/live/s.flv', ext: '.flv' }],
    ['no case folding', 'Example.COM:80', '/Live/S.flv', { key: 'Example.COM/Live/S', unified: 'http://Example.COM/Live/S', full: 'http://Example.COM/Live/S.flv', ext: '.flv' }],
    ['app and stream queries win over the path', '1.2.3.4:18080', '/live/a.flv?app=x&stream=y', { key: `${D}/x/y`, unified: 'http://1.2.3.4/x/y', full: 'http://1.2.3.4/x/y.flv', ext: '.flv' }],
    ['stream query alone', '1.2.3.4:18080', '/live/a.flv?stream=s', { key: `${D}/s`, unified: 'http://1.2.3.4/s', full: 'http://1.2.3.4/s.flv', ext: '.flv' }],
    ['app query alone', '1.2.3.4:18080', '/live/a.flv?app=x', { key: `${D}/x`, unified: 'http://1.2.3.4/x', full: 'http://1.2.3.4/x.flv', ext: '.flv' }],
    ['WHIP path without extension', '1.2.3.4:11985', '/rtc/v1/whip/?app=live&stream=s', { key: `${D}/live/s`, unified: 'http://1.2.3.4/live/s', full: 'http://1.2.3.4/live/s', ext: '' }],
    ['path without extension and no query', '1.2.3.4:11985', '/rtc/v1/whip/', { key: `${D}/rtc/v1/whip/`, unified: 'http://1.2.3.4/rtc/v1/whip/', full: 'http://1.2.3.4/rtc/v1/whip/', ext: '' }],
    ['only the last extension is stripped', '1.2.3.4:18080', '/live/a.b.flv', { key: `${D}/live/a.b`, unified: 'http://1.2.3.4/live/a.b', full: 'http://1.2.3.4/live/a.b.flv', ext: '.flv' }],
    ['percent-encoded path is decoded in the key only', '1.2.3.4:18080', '/live/a%20b.flv', { key: `${D}/live/a b`, unified: 'http://1.2.3.4/live/a%20b', full: 'http://1.2.3.4/live/a%20b.flv', ext: '.flv' }],
    ['other query parameters are ignored', '1.2.3.4:18080', '/live/s.flv?token=1', { key: `${D}/live/s`, unified: 'http://1.2.3.4/live/s', full: 'http://1.2.3.4/live/s.flv', ext: '.flv' }],
  ];
  for (const [what, host, pq, want] of table) {
    it(`${what}: Host ${host ?? '(none)'} ${pq}`, () => assert.deepEqual(streamUrlFromHttp(req(host, pq)), want));
  }

  it('https when the request came over TLS', () => {
    assert.equal(streamUrlFromHttp({ ...req('1.2.3.4:443', '/live/s.flv'), tls: true }).unified, 'https://1.2.3.4/live/s');
  });

  it('pathExt is Go path.Ext', () => {
    assert.equal(pathExt('/live/s.flv'), '.flv');
    assert.equal(pathExt('/live.d/s'), '');
    assert.equal(pathExt('/live/s.'), '.');
    assert.equal(pathExt(''), '');
  });
});

describe('publishers and players meet across protocols', () => {
  it('RTMP, HTTP-FLV, HLS, WHEP and SRT of one stream share a key', () => {
    const keys = new Set([
      streamUrlFromRtmp('rtmp://1.2.3.4/live', 'livestream'),
      streamUrlFromRtmp('rtmp://1.2.3.4:11935/live', 'livestream?secret=1'),
      streamUrlFromHttp({ host: '1.2.3.4:18080', path: '/live/livestream.flv', query: new URLSearchParams() }).key,
      streamUrlFromHttp({ host: '1.2.3.4:18080', path: '/live/livestream.m3u8', query: new URLSearchParams('hls_ctx=x') }).key,
      streamUrlFromHttp({ host: '1.2.3.4:11985', path: '/rtc/v1/whep/', query: new URLSearchParams('app=live&stream=livestream') }).key,
      streamUrlFromSrt(undefined, 'live/livestream'),
    ]);
    assert.deepEqual([...keys], [`${D}/live/livestream`]);
  });
  it('a domain over RTMP and over HTTP without a port do not meet (documented quirk)', () => {
    assert.notEqual(
      streamUrlFromRtmp('rtmp://example.com/live', 's'),
      streamUrlFromHttp({ host: 'example.com', path: '/live/s.flv', query: new URLSearchParams() }).key,
    );
  });
});
