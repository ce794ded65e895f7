import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RedisBalancer } from '../src/index.ts';
import { REDIS_COMMAND_TIMEOUT_MS } from '../src/redis-balancer.ts';
import { freeTcpPort, requireBinary, spawnProcess, startRedis, waitFor } from '../../../test/support/index.ts';
import { origin } from './contract.ts';

describe('Redis balancer when Redis is unreachable', () => {
  it('init fails with SRSP_ERR_STORE_UNAVAILABLE when nothing listens', async () => {
    const port = await freeTcpPort();
    const b = new RedisBalancer({ host: '127.0.0.1', port, db: 0, keyPrefix: 'x:' });
    try {
      await assert.rejects(b.init(), { code: 'SRSP_ERR_STORE_UNAVAILABLE' });
    } finally {
      await b.close();
    }
  });

  it('requests fail fast with SRSP_ERR_STORE_UNAVAILABLE after Redis dies, and work again once it is back', async () => {
    const redis = await startRedis();
    const b = new RedisBalancer({ host: '127.0.0.1', port: redis.port, db: 0, keyPrefix: 'x:' });
    try {
      await b.init();
      await b.update(origin(1, Date.now()));
      await b.pick('__defaultVhost__/live/a');
      await redis.stop();
      const started = Date.now();
      for (const op of [() => b.pick('__defaultVhost__/live/a'), () => b.update(origin(1, Date.now())), () => b.ping(), () => b.loadRtcByUfrag('a:b')]) {
        await assert.rejects(op(), { code: 'SRSP_ERR_STORE_UNAVAILABLE' });
      }
      // Nothing queued waiting for a reconnect: each failure came well within one command timeout.
      assert.ok(Date.now() - started < 4 * REDIS_COMMAND_TIMEOUT_MS, `took ${Date.now() - started} ms`);
      // A Redis restarted on the same port is picked up by the reconnect loop (state lost: no persistence).
      const again = spawnProcess(requireBinary('redis-server'), ['--port', String(redis.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
      try {
        await waitFor(() => b.ping().then(() => true, () => false), { what: 'balancer reconnected' });
        await b.update(origin(2, Date.now()));
        assert.equal((await b.pick('__defaultVhost__/live/a')).origin.id, origin(2, 0).id);
      } finally {
        await again.stop();
      }
    } finally {
      await b.close();
      await redis.stop();
    }
  });

  it('a closed balancer rejects instead of hanging; close is idempotent', async () => {
    const redis = await startRedis();
    const b = new RedisBalancer({ host: '127.0.0.1', port: redis.port, db: 0, keyPrefix: 'x:' });
    try {
      await b.init();
      await b.close();
      await b.close();
      await assert.rejects(b.ping(), { code: 'SRSP_ERR_STORE_UNAVAILABLE' });
    } finally {
      await redis.stop();
    }
  });
});
