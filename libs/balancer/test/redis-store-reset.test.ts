import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisBalancer } from '../src/index.ts';
import { origin } from './contract.ts';
import { useRedis } from './redis-fixture.ts';

const fx = useRedis();

/** Redis restarted empty or flushed: every registry replica sees the reset once, and re-writes what it knows. */
test('detectReset: a flushed store is reported once to each replica; the epoch is re-armed', async () => {
  const conn = { host: '127.0.0.1', port: fx.server.port, db: 0, keyPrefix: 'reset:' };
  const a = new RedisBalancer(conn);
  const b = new RedisBalancer(conn);
  try {
    await a.init();
    await b.init();
    await a.update(origin(1, Date.now()));
    assert.equal(await a.detectReset(), false);
    assert.equal(await b.detectReset(), false);
    assert.ok(await fx.admin.get('reset:epoch'));

    await fx.admin.flushall();
    assert.equal(await a.detectReset(), true, 'the first replica to look sees the empty store');
    assert.equal(await a.detectReset(), false, 'once');
    // The other replica sees the new epoch (not the one it knew), so it re-writes its origins too.
    assert.equal(await b.detectReset(), true);
    assert.equal(await b.detectReset(), false);

    // An empty store without an epoch key but with data is also a reset (DEL of the key): harmless, origins are re-written.
    await fx.admin.del('reset:epoch');
    assert.equal(await b.detectReset(), true);
    assert.equal(await a.detectReset(), true);
  } finally {
    await a.close();
    await b.close();
  }
});

test('assertPlacement after a flush: origins unknown until re-written, then the claim is written', async () => {
  const b = new RedisBalancer({ host: '127.0.0.1', port: fx.server.port, db: 0, keyPrefix: 'reset2:' });
  try {
    await b.init();
    const o = origin(1, Date.now());
    await b.update(o);
    const claim = { stream_url: '__defaultVhost__/live/flushed', origin_id: o.id };
    assert.deepEqual(await b.assertPlacement([claim]), [{ outcome: 'written' }]);
    await fx.admin.flushall();
    assert.deepEqual(await b.assertPlacement([claim]), [{ outcome: 'unknown-origin' }]);
    assert.equal(await fx.admin.exists('reset2:stream:__defaultVhost__/live/flushed'), 0, 'nothing written for an unknown origin');
    assert.equal(await b.detectReset(), true);
    await b.update(o);
    assert.deepEqual(await b.assertPlacement([claim]), [{ outcome: 'written' }]);
    assert.equal((await b.pick(claim.stream_url)).origin.id, o.id);
  } finally {
    await b.close();
  }
});
