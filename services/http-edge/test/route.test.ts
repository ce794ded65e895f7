import { test } from 'node:test';
import assert from 'node:assert/strict';
import { route, streamKeyOf, cleanPath, plausibleSpbhid, type Route } from '../src/route.ts';

function ok(target: string): Route {
  const r = route(target);
  assert.ok(r.ok, `expected ${target} to route`);
  return r;
}

test('route: kinds of spec 6.1, extended with DASH and tagged fMP4/keys', () => {
  const table: Array<[string, string]> = [
    ['/api/v1/versions', 'versions'],
    ['/api/v1/versions?x=1', 'versions'],
    ['/live/livestream.flv', 'flv'],
    ['/live/livestream.flv?token=abc', 'flv'],
    ['/live/livestream.ts', 'ts'],
    ['/live/livestream.m3u8', 'hls-playlist'],
    ['/live/livestream.m3u8?hls_ctx=abc', 'hls-playlist'],
    ['/live/livestream.m3u8?spbhid=abc1234&hls_ctx=x', 'hls-playlist'],
    ['/live/livestream-1.ts?spbhid=abc1234', 'segment'],
    ['/live/livestream-1.flv?spbhid=abc1234', 'segment'],
    ['/live/seg1.m4s?spbhid=abc1234', 'segment'],
    ['/live/init.mp4?spbhid=abc1234', 'segment'],
    ['/live/key-1.key?spbhid=abc1234', 'segment'],
    ['/live/s1.mpd', 'dash-manifest'],
    ['/live/s1-0.m4v?spbhid=abc1234', 'segment'],
    ['/live/livestream-1.ts?spbhid=', 'ts'],
    ['/live/seg1.m4s', 'static'],
    ['/', 'static'],
    ['/players/index.html', 'static'],
    ['/live/livestream.FLV', 'static'],
    ['/live/a%2Eflv', 'flv'],
  ];
  for (const [target, kind] of table) assert.equal(ok(target).kind, kind, target);
});

test('route: the target is forwarded verbatim, the decoded path is used for suffixes', () => {
  const r = ok('/live/a%20b.flv?token=x%20y&app=');
  assert.equal(r.path, '/live/a b.flv');
  assert.equal(r.target, '/live/a%20b.flv?token=x%20y&app=');
  assert.equal(r.spbhid, undefined);
});

test('route: dot segments and double slashes redirect to the cleaned path, like the Go router', () => {
  assert.deepEqual(route('/live/../etc/passwd'), { ok: false, redirect: '/etc/passwd' });
  assert.deepEqual(route('/%2e%2e/%2e%2e/etc/passwd'), { ok: false, redirect: '/etc/passwd' });
  assert.deepEqual(route('/live//a.flv?x=1'), { ok: false, redirect: '/live/a.flv?x=1' });
  assert.deepEqual(route('/./a/'), { ok: false, redirect: '/a/' });
  assert.deepEqual(route('/..%2f..%2fetc%2fpasswd'), { ok: false, redirect: '/etc/passwd' });
});

test('route: malformed targets are refused with a reason', () => {
  for (const t of ['', '*', 'http://h/live/a.flv', '/live/%zz.flv', '/a%00b', `/${'a'.repeat(9000)}`]) {
    const r = route(t);
    assert.equal(r.ok, false, t);
    assert.ok(!r.ok && r.redirect === undefined && r.reason.length > 0, t);
  }
});

test('cleanPath: Go path.Clean on rooted paths, trailing slash kept', () => {
  assert.equal(cleanPath('/'), '/');
  assert.equal(cleanPath('/a/b/../c'), '/a/c');
  assert.equal(cleanPath('/../../'), '/');
  assert.equal(cleanPath('/a/./b/'), '/a/b/');
  assert.equal(cleanPath('//a///b'), '/a/b');
});

test('streamKeyOf: spec 6.2 keys, meeting RTMP keys for the same stream', () => {
  const key = (target: string, host?: string) => streamKeyOf(ok(target), host);
  assert.equal(key('/live/livestream.flv', '127.0.0.1:18080').key, '__defaultVhost__/live/livestream');
  assert.equal(key('/live/livestream.m3u8', 'localhost:18080').key, '__defaultVhost__/live/livestream');
  assert.equal(key('/live/livestream.flv', 'example.com:18080').key, 'example.com/live/livestream');
  // Host without a port: upstream keys it under the default vhost (quirk kept, spec 11.3).
  assert.equal(key('/live/livestream.flv', 'example.com').key, '__defaultVhost__/live/livestream');
  assert.equal(key('/live/livestream.flv', undefined).key, '__defaultVhost__/live/livestream');
  // app/stream query parameters win over the path.
  assert.equal(key('/live/a.flv?app=x&stream=y', '1.2.3.4:18080').key, '__defaultVhost__/x/y');
  assert.equal(key('/live/a%20b.ts', 'h:1').key, '__defaultVhost__/live/a b');
  const k = key('/live/s.flv?token=1', 'v.example.com:18080');
  assert.equal(k.full, 'http://v.example.com/live/s.flv');
  assert.equal(k.ext, '.flv');
});

test('plausibleSpbhid: only id-shaped values reach the registry', () => {
  assert.ok(plausibleSpbhid('d2b525b'));
  assert.ok(!plausibleSpbhid(''));
  assert.ok(!plausibleSpbhid('a b'));
  assert.ok(!plausibleSpbhid('x'.repeat(65)));
  assert.ok(!plausibleSpbhid('../../x'));
});
