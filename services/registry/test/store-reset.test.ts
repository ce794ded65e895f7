import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RedisBalancer } from '@srs-proxy/balancer';
import { BusRegistryClient } from '@srs-proxy/bus';
import { requireBinary, startRedis, waitFor, type RunningServer } from '../../../test/support/index.ts';
import { http, metricValue, startTestRegistry, type TestRegistry } from './support.ts';

/**
 * A Redis that comes back empty (restarted without persistence, as the shipped compose and k8s
 * files run it, or flushed) gets the registry's live origins back without waiting for their
 * heartbeats: the registry remembers each origin's last heartbeat and re-writes them when the
 * store's epoch changed, on its next sweep or at once when a placement claim names an origin the
 * store does not know.
 */

/** Sweeps this often here (5 s in production): the test waits for one sweep. */
const SWEEP_MS = 250;
/** Longer than any wait of the claim test: only the claim can have triggered its re-write. */
const NO_SWEEP_MS = 3_600_000;

let redis: RunningServer;
let prefix = 0;
const run = promisify(execFile);
/** The state loss itself: what an operator's FLUSHALL (or a restart without persistence) leaves. */
const admin = {
  flushall: async () => void (await run(requireBinary('redis-cli'), ['-p', String(redis.port), 'FLUSHALL'])),
};

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

async function registryOn(sweepIntervalMs: number): Promise<{ r: TestRegistry; balancer: RedisBalancer }> {
  const balancer = new RedisBalancer({ host: '127.0.0.1', port: redis.port, db: 0, keyPrefix: `sr${++prefix}:` }, { originTtlMs: 30_000 });
  const r = await startTestRegistry({ balancer, originTtlMs: 30_000, timers: { sweepIntervalMs } });
  return { r, balancer };
}

async function register(r: TestRegistry, server: string, rtmp: string): Promise<void> {
  const reply = await http(r.port, { method: 'POST', path: '/api/v1/srs/register', body: JSON.stringify({ ip: '127.0.0.1', server, service: 's', pid: '1', rtmp: [rtmp] }) });
  assert.equal(reply.status, 200, reply.body);
}

const ids = async (b: RedisBalancer) => (await b.listOrigins()).filter((o) => o.alive).map((o) => o.origin.id).sort();

test('FLUSHALL: the next sweep re-writes the live origins (no heartbeat needed), once, counted and logged', async () => {
  const { r, balancer } = await registryOn(SWEEP_MS);
  try {
    await register(r, 'o1', '19351');
    await register(r, 'o2', '19352');
    assert.deepEqual(await ids(balancer), ['o1-s-1', 'o2-s-1']);
    await admin.flushall();
    assert.deepEqual(await ids(balancer), []);
    await waitFor(async () => (await ids(balancer)).length === 2, { what: 'origins re-written by a sweep' });
    assert.deepEqual(await ids(balancer), ['o1-s-1', 'o2-s-1']);
    assert.equal(await metricValue(r.metrics, 'srsp_registry_store_resets_total'), 1);
    assert.equal(r.logs.matching(/store came back empty/).length, 1);
    // The following sweeps find the epoch they set: no more re-writes.
    const sweeps = r.logs.matching(/re-wrote 2 origins/).length;
    assert.equal(sweeps, 1);
  } finally {
    await r.close();
    await balancer.close();
  }
});

test('redis-server restarted empty: a placement claim naming an unknown origin restores the origins and is written at once', async () => {
  const { r, balancer } = await registryOn(NO_SWEEP_MS);
  const client = new BusRegistryClient(r.bus, 2_000);
  try {
    await register(r, 'pub', '19361');
    await register(r, 'other', '19362');
    const stream = '__defaultVhost__/live/restart';
    const claim = { stream_url: stream, origin_id: 'pub-s-1', protocol: 'rtmp' as const };
    assert.deepEqual(await client.assertPlacements([claim], 'rtmp-edge'), [{ outcome: 'written' }]);

    await redis.stop();
    await redis.start();
    // The balancer reconnects (REDIS_RECONNECT_MAX_DELAY_MS); until then claims fail and edges retry.
    const answer = await waitFor(async () => {
      try {
        return await client.assertPlacements([claim], 'rtmp-edge');
      } catch {
        return undefined;
      }
    }, { what: 'a claim answered after the restart' });
    assert.deepEqual(answer, [{ outcome: 'written' }], 'written in the same request that found the store empty');
    assert.deepEqual(await ids(balancer), ['other-s-1', 'pub-s-1'], 'every live origin is back, not only the claimed one');
    assert.equal((await client.pick(stream)).origin.id, 'pub-s-1');
    assert.equal(await metricValue(r.metrics, 'srsp_registry_store_resets_total'), 1);
    assert.equal(await metricValue(r.metrics, 'srsp_registry_placement_claims_total', { outcome: 'written' }), 2);
  } finally {
    await r.close();
    await balancer.close();
  }
});

test('an origin that expired before the reset is not revived by the re-write', async () => {
  let now = Date.now();
  const balancer = new RedisBalancer({ host: '127.0.0.1', port: redis.port, db: 0, keyPrefix: `sr${++prefix}:` }, { originTtlMs: 30_000, now: () => now });
  const r = await startTestRegistry({ balancer, originTtlMs: 30_000, now: () => now, timers: { sweepIntervalMs: NO_SWEEP_MS } });
  const client = new BusRegistryClient(r.bus, 2_000);
  try {
    await register(r, 'old', '19371');
    now += 20_000;
    await register(r, 'young', '19372');
    now += 15_000;
    await admin.flushall();
    const claim = { stream_url: '__defaultVhost__/live/expired', origin_id: 'old-s-1' };
    assert.deepEqual(await client.assertPlacements([claim]), [{ outcome: 'unknown-origin' }]);
    assert.deepEqual(await ids(balancer), ['young-s-1']);
    assert.equal((await balancer.listOrigins()).length, 1, 'the dead origin was not written back');
  } finally {
    await r.close();
    await balancer.close();
  }
});

test('a bad claim batch is a clear bus error and writes nothing', async () => {
  const { r, balancer } = await registryOn(NO_SWEEP_MS);
  const client = new BusRegistryClient(r.bus, 2_000);
  try {
    await register(r, 'b', '19381');
    const many = Array.from({ length: 101 }, (_, i) => ({ stream_url: `__defaultVhost__/live/b${i}`, origin_id: 'b-s-1' }));
    await assert.rejects(client.assertPlacements(many), { code: 'SRSP_ERR_BAD_MESSAGE', message: /at most 100/ });
    await assert.rejects(r.bus.request('srsp.v1.registry.streams.assert', { v: 1, claims: [{ stream_url: 's' }] }, { timeoutMs: 2_000 }), { code: 'SRSP_ERR_BAD_MESSAGE' });
    await assert.rejects(r.bus.request('srsp.v1.registry.streams.assert', { v: 2, claims: [] }, { timeoutMs: 2_000 }), { code: 'SRSP_ERR_BAD_MESSAGE' });
    await assert.rejects(r.bus.request('srsp.v1.registry.streams.assert', { v: 1, claims: [{ stream_url: 's', origin_id: 'b-s-1', protocol: 'gopher' }] }, { timeoutMs: 2_000 }), { code: 'SRSP_ERR_BAD_MESSAGE' });
    assert.deepEqual(await balancer.listStreams(), []);
  } finally {
    await r.close();
    await balancer.close();
  }
});
