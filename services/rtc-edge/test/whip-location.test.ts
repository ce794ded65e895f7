import test from 'node:test';
import assert from 'node:assert/strict';
import { proxyLocation, resolveResource, ORIGIN_PARAM, RESOURCE_PARAM } from '../src/whip-location.ts';
import { RtcRequestError } from '../src/errors.ts';

const base = { originBase: 'http://10.0.0.5:1985', kind: 'whip' as const, originId: 'vid-a-b-1' };

test('an SRS Location under /rtc/v1/whip/ keeps its path and query and gains the origin id', () => {
  const srs = '/rtc/v1/whip/?action=delete&token=cdh5m5d7&app=live&stream=livestream&session=7f8a:Uc1';
  const loc = proxyLocation(srs, base);
  assert.equal(loc, `${srs}&${ORIGIN_PARAM}=vid-a-b-1`);
  // The round trip gives back exactly the origin's URL and the origin.
  const q = loc!.indexOf('?');
  assert.deepEqual(resolveResource(loc!.slice(0, q), loc!.slice(q + 1)), { originId: 'vid-a-b-1', path: srs });
});

test('an absolute Location on the origin API is made relative to the proxy', () => {
  const loc = proxyLocation('http://10.0.0.5:1985/rtc/v1/whep/?session=s1', { ...base, kind: 'whep' });
  assert.equal(loc, `/rtc/v1/whep/?session=s1&${ORIGIN_PARAM}=vid-a-b-1`);
  const bare = proxyLocation('/rtc/v1/whip/res1', base);
  assert.equal(bare, `/rtc/v1/whip/res1?${ORIGIN_PARAM}=vid-a-b-1`);
});

test('a Location outside /rtc/v1/whip|whep/ travels in srsp_resource', () => {
  const loc = proxyLocation('/whip/resource/abc?x=1', { ...base, originId: 'id with space' });
  assert.equal(loc, `/rtc/v1/whip/?${ORIGIN_PARAM}=id%20with%20space&${RESOURCE_PARAM}=${encodeURIComponent('/whip/resource/abc?x=1')}`);
  const q = loc!.indexOf('?');
  assert.deepEqual(resolveResource('/rtc/v1/whip/', loc!.slice(q + 1)), { originId: 'id with space', path: '/whip/resource/abc?x=1' });
});

test('a Location on another host is passed through untouched; garbage is refused', () => {
  assert.equal(proxyLocation('https://sfu.example.com/res/1', base), 'https://sfu.example.com/res/1');
  assert.equal(proxyLocation('http://[bad', { ...base, originBase: 'not a url' }), undefined);
});

test('resource URLs the proxy did not issue keep their query (minus nothing) and name no origin', () => {
  assert.deepEqual(resolveResource('/rtc/v1/whip/', 'app=live&stream=s&session=1'), { originId: undefined, path: '/rtc/v1/whip/?app=live&stream=s&session=1' });
  assert.deepEqual(resolveResource('/rtc/v1/whip/', ''), { originId: undefined, path: '/rtc/v1/whip/' });
});

test('srsp_resource cannot reach the SRS management API or escape with dot segments', () => {
  const bad = ['/api/v1/clients/123', '/api', '//evil.example/x', 'relative', '/rtc/../api/v1/clients/1', '/a/%2e%2e/api', '/x\\y'];
  for (const p of bad) {
    assert.throws(() => resolveResource('/rtc/v1/whip/', `${RESOURCE_PARAM}=${encodeURIComponent(p)}`), (e: unknown) => e instanceof RtcRequestError && e.status === 403, p);
  }
  assert.throws(() => resolveResource('/rtc/v1/whip/', `${ORIGIN_PARAM}=%E0%A4%A`), RtcRequestError);
});
