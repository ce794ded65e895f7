import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SynCookies, COOKIE_BUCKET_MS } from '../src/srt/cookie.ts';

test('a cookie verifies for the address and port it was made for', () => {
  let now = 1_000_000;
  const c = new SynCookies('secret', () => now);
  const cookie = c.make('192.0.2.1', 5000);
  assert.notEqual(cookie, 0);
  assert.ok(cookie >= 0 && cookie <= 0xffffffff);
  assert.ok(c.verify('192.0.2.1', 5000, cookie));
  assert.ok(!c.verify('192.0.2.2', 5000, cookie), 'other address');
  assert.ok(!c.verify('192.0.2.1', 5001, cookie), 'other port');
  assert.ok(!c.verify('192.0.2.1', 5000, 0), 'zero is never a cookie');
  assert.ok(!c.verify('192.0.2.1', 5000, (cookie + 1) >>> 0));
  now += 10;
  assert.equal(c.make('192.0.2.1', 5000), cookie, 'stable within a bucket');
});

test('a cookie stays valid for the next bucket, then expires', () => {
  let now = 5 * COOKIE_BUCKET_MS + 1;
  const c = new SynCookies('secret', () => now);
  const cookie = c.make('::1', 9);
  now += COOKIE_BUCKET_MS;
  assert.ok(c.verify('::1', 9, cookie), 'previous bucket accepted');
  now += COOKIE_BUCKET_MS;
  assert.ok(!c.verify('::1', 9, cookie), 'two buckets old');
});

test('cookies depend on the secret; without one each instance is random', () => {
  const now = () => 42;
  assert.equal(new SynCookies('a', now).make('h', 1), new SynCookies('a', now).make('h', 1));
  assert.notEqual(new SynCookies('a', now).make('h', 1), new SynCookies('b', now).make('h', 1));
  const r1 = new SynCookies(undefined, now);
  const r2 = new SynCookies(undefined, now);
  assert.notEqual(r1.make('h', 1), r2.make('h', 1));
  assert.ok(!r2.verify('h', 1, r1.make('h', 1)));
});
