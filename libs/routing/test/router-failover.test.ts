import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCode } from '@srs-proxy/runtime';
import { OriginRouter, OriginRejectedError, dialTcp, ORIGIN_UNREACHABLE, type RouteTarget } from '../src/index.ts';
import { listening, refusedPort, startCluster } from './support.ts';

const STREAM = '__defaultVhost__/live/failover';

test('a refused origin is reported, avoided and the next distinct origin serves the stream', async () => {
  const c = await startCluster();
  const live = await listening();
  try {
    const dead = await c.register('dead', await refusedPort());
    // The stream is placed on the dead origin before the live one exists (sticky mapping).
    assert.equal((await c.client.pick(STREAM, { protocol: 'rtmp' })).origin.id, dead);
    const alive = await c.register('alive', live.port);
    const router = new OriginRouter({ registry: c.client, protocol: 'rtmp', settings: { connectTimeoutMs: 1_000, attempts: 2, staleMaxMs: 60_000 }, logger: c.logger });
    const tried: RouteTarget[] = [];
    const failovers: string[] = [];
    const { target, value } = await router.route(STREAM, async (t) => {
      tried.push(t);
      return dialTcp(t.endpoint, router.settings.connectTimeoutMs);
    }, { onFailover: (o) => failovers.push(o.id) });
    value.destroy();
    assert.deepEqual(tried.map((t) => [t.origin.id, t.attempt]), [[dead, 1], [alive, 2]]);
    assert.equal(target.origin.id, alive);
    assert.deepEqual(failovers, [dead]);
    // Reported before the re-pick: the registry penalised the dead origin and re-placed the stream.
    const status = (await c.client.listOrigins()).find((o) => o.origin.id === dead);
    assert.ok(status && status.penalized_until > Date.now(), 'the dead origin was reported');
    assert.equal((await c.client.pick(STREAM, { protocol: 'rtmp' })).origin.id, alive);
    assert.equal(c.logs.matching(/origin unreachable, reporting it: origin dead-svc-1 failed/).length, 1);
  } finally {
    await live.close();
    await c.close();
  }
});

test('with no other origin the caller gets the origin failure, typed, not "no origin"', async () => {
  const c = await startCluster();
  try {
    await c.register('only', await refusedPort());
    const router = new OriginRouter({ registry: c.client, protocol: 'rtmp', settings: { connectTimeoutMs: 1_000, attempts: 3, staleMaxMs: 60_000 }, logger: c.logger });
    let tries = 0;
    await assert.rejects(router.route(`${STREAM}-2`, async (t) => {
      tries++;
      return dialTcp(t.endpoint, 1_000);
    }), (err: unknown) => errorCode(err) === ORIGIN_UNREACHABLE);
    assert.equal(tries, 1, 'the only origin is not tried twice');
  } finally {
    await c.close();
  }
});

test('attempts come from the settings: one attempt means no failover', async () => {
  const c = await startCluster();
  const live = await listening();
  try {
    const dead = await c.register('dead', await refusedPort());
    await c.client.pick(`${STREAM}-3`, { protocol: 'rtmp' });
    await c.register('alive', live.port);
    const router = new OriginRouter({ registry: c.client, protocol: 'rtmp', settings: { connectTimeoutMs: 1_000, attempts: 1, staleMaxMs: 60_000 }, logger: c.logger });
    const tried: string[] = [];
    await assert.rejects(router.route(`${STREAM}-3`, async (t) => {
      tried.push(t.origin.id);
      return dialTcp(t.endpoint, 1_000);
    }), (err: unknown) => errorCode(err) === ORIGIN_UNREACHABLE);
    assert.deepEqual(tried, [dead]);
  } finally {
    await live.close();
    await c.close();
  }
});

test('an origin that answered and refused is neither reported nor retried', async () => {
  const c = await startCluster();
  const a = await listening();
  const b = await listening();
  try {
    await c.register('a', a.port);
    await c.register('b', b.port);
    const router = new OriginRouter({ registry: c.client, protocol: 'rtmp', settings: { connectTimeoutMs: 1_000, attempts: 2, staleMaxMs: 60_000 }, logger: c.logger });
    let tries = 0;
    await assert.rejects(router.route(`${STREAM}-4`, async () => {
      tries++;
      throw new OriginRejectedError('origin refused publish: NetStream.Publish.BadName');
    }), OriginRejectedError);
    assert.equal(tries, 1);
    assert.ok((await c.client.listOrigins()).every((o) => o.penalized_until === 0), 'nothing reported');
  } finally {
    await a.close();
    await b.close();
    await c.close();
  }
});

test('a cancelled session is not reported or retried', async () => {
  const c = await startCluster();
  try {
    await c.register('dead', await refusedPort());
    await c.register('dead2', await refusedPort());
    const router = new OriginRouter({ registry: c.client, protocol: 'rtmp', settings: { connectTimeoutMs: 1_000, attempts: 2, staleMaxMs: 60_000 }, logger: c.logger });
    let tries = 0;
    await assert.rejects(router.route(`${STREAM}-5`, async (t) => {
      tries++;
      return dialTcp(t.endpoint, 1_000);
    }, { cancelled: () => true }));
    assert.equal(tries, 1);
    assert.ok((await c.client.listOrigins()).every((o) => o.penalized_until === 0), 'nothing reported');
  } finally {
    await c.close();
  }
});
