import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, countingOrigin, edgeGet, manualClock, originBody, type Harness } from './support.ts';

/** Route cache TTL of this suite (the default is 5 s; the clock is moved by hand anyway). */
const ROUTE_TTL_MS = 1_000;
/** The edge's clock: stands still unless a test moves it. */
const clock = manualClock();
let h: Harness;
let origin: Awaited<ReturnType<typeof countingOrigin>>;

before(async () => {
  h = await startHarness({ limits: { routeCacheTtlMs: ROUTE_TTL_MS }, now: clock.now });
  origin = await countingOrigin({ '/live/rc.flv': { type: 'video/x-flv', body: Buffer.from('FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00', 'latin1') } });
  assert.equal(await h.register(originBody(origin.port, 'rc')), 200);
});
after(async () => {
  await h.close();
  await origin.close();
});

const picks = () => h.metric('srsp_registry_picks_total');

test('route cache: a stream\'s origin is asked of the registry once per TTL of the edge\'s clock', async () => {
  const before = await picks();
  for (let i = 0; i < 3; i++) assert.equal((await edgeGet(h.port, '/live/rc.flv')).status, 200);
  assert.equal(await picks(), before + 1, 'one pick, then the cached answer');
  clock.advance(ROUTE_TTL_MS - 1);
  await edgeGet(h.port, '/live/rc.flv');
  assert.equal(await picks(), before + 1, 'a millisecond before the TTL: still cached');
  clock.advance(1);
  await edgeGet(h.port, '/live/rc.flv');
  assert.equal(await picks(), before + 2, 'expired: the registry is asked again');
  assert.equal(origin.hits('/live/rc.flv'), 5, 'every live request reaches the origin');
});
