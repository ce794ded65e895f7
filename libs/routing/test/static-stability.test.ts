import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OriginRecord } from '@srs-proxy/balancer';
import { createMetricsRegistry, errorCode } from '@srs-proxy/runtime';
import {
  ControlPlaneGuard, ControlPlaneUnavailableError, CONTROL_PLANE_UNAVAILABLE, OriginRouter, RouteCache, httpAnswer, isControlPlaneFailure,
} from '../src/index.ts';
import { RegistryUnavailableError, RemoteError } from '@srs-proxy/bus';
import { startCluster, listening } from './support.ts';

const SETTINGS = { connectTimeoutMs: 1_000, attempts: 2, staleMaxMs: 60_000 };

async function pick(router: OriginRouter, s: string, avoid: string[] = []): Promise<OriginRecord> {
  return router.pick(s, avoid);
}

function counter(text: string, name: string, labels: string): number {
  const m = new RegExp(`^${name}\\{${labels}[^}]*\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

test('registry down: a stream the edge routed before is answered from its cache past the fresh TTL, counted; a new one fails at once with 503 + Retry-After', async () => {
  const c = await startCluster();
  const origin = await listening();
  let now = 1_000_000;
  try {
    const id = await c.register('o1', origin.port);
    const metrics = createMetricsRegistry();
    const cache = new RouteCache({ ttlMs: 5_000, staleMs: 60_000, maxEntries: 100, now: () => now });
    const controlPlane = new ControlPlaneGuard({ edge: 'test-edge', metrics, now: () => now });
    const router = new OriginRouter({ registry: c.client, protocol: 'rtmp', settings: SETTINGS, logger: c.logger, cache, controlPlane });
    const known = '__defaultVhost__/live/known';
    assert.equal((await pick(router, known)).id, id);

    await c.stopRegistry();
    now += 30_000; // past the fresh TTL, within the stale bound
    assert.equal(cache.get(known), undefined, 'no longer fresh');
    assert.equal((await pick(router, known)).id, id, 'served stale while the registry is down');
    assert.equal(controlPlane.degraded, true);

    const err = await pick(router, '__defaultVhost__/live/never-seen').then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ControlPlaneUnavailableError, String(err));
    const answer = httpAnswer(err);
    assert.equal(answer.status, 503);
    assert.equal(answer.retryAfter, 1);
    assert.doesNotMatch(answer.text, /registry\.|subject|srsp\.v1|no responders/, 'no internal text');

    // An origin the session just failed on is never the stale answer.
    await assert.rejects(pick(router, known, [id]), (e: unknown) => errorCode(e) === CONTROL_PLANE_UNAVAILABLE);

    const text = await metrics.metrics();
    assert.equal(counter(text, 'srsp_route_stale_answers_total', 'edge="test-edge",question="pick"'), 1);
    assert.equal(counter(text, 'srsp_route_control_plane_failures_total', 'edge="test-edge",question="pick",outcome="refused"'), 2);

    // Past the stale bound the edge no longer claims to know the stream.
    now += 60_000;
    await assert.rejects(pick(router, known), ControlPlaneUnavailableError);
  } finally {
    await origin.close();
    await c.close();
  }
});

test('after a failure, questions skip the registry for the retry window; the first one after it probes, and an answer ends the outage', async () => {
  const c = await startCluster();
  const origin = await listening();
  let now = 5_000_000;
  try {
    const id = await c.register('o1', origin.port);
    let asked = 0;
    const real = c.client.pick.bind(c.client);
    c.client.pick = (s, o) => {
      asked++;
      return real(s, o);
    };
    const controlPlane = new ControlPlaneGuard({ edge: 'e', now: () => now, retryMs: 1_000 });
    const router = new OriginRouter({ registry: c.client, protocol: 'rtmp', settings: SETTINGS, logger: c.logger, controlPlane });
    await c.stopRegistry();
    await assert.rejects(pick(router, 'v/live/a'), ControlPlaneUnavailableError);
    assert.equal(asked, 1);
    for (let i = 0; i < 20; i++) await assert.rejects(pick(router, `v/live/b${i}`), ControlPlaneUnavailableError);
    assert.equal(asked, 1, 'inside the retry window nothing waits on the registry');
    await c.startRegistry();
    now += 999;
    await assert.rejects(pick(router, 'v/live/c'), ControlPlaneUnavailableError);
    assert.equal(asked, 1);
    now += 1;
    assert.equal((await pick(router, 'v/live/d')).id, id, 'the probe after the window finds the registry back');
    assert.equal(asked, 2);
    assert.equal(controlPlane.degraded, false);
    assert.equal((await pick(router, 'v/live/e')).id, id);
    assert.equal(asked, 3);
  } finally {
    await origin.close();
    await c.close();
  }
});

test('identical registry questions in flight at once are asked once', async () => {
  const c = await startCluster();
  const origin = await listening();
  try {
    const id = await c.register('o1', origin.port);
    let asked = 0;
    const real = c.client.pick.bind(c.client);
    c.client.pick = (s, o) => {
      asked++;
      return real(s, o);
    };
    const router = new OriginRouter({ registry: c.client, protocol: 'rtmp', settings: SETTINGS, logger: c.logger });
    const answers = await Promise.all(Array.from({ length: 50 }, () => pick(router, 'v/live/same')));
    assert.ok(answers.every((o) => o.id === id));
    assert.equal(asked, 1);
    await Promise.all([pick(router, 'v/live/x'), pick(router, 'v/live/y')]);
    assert.equal(asked, 3, 'different streams are different questions');
  } finally {
    await origin.close();
    await c.close();
  }
});

test('answers are not outages: no origin passes through; unavailable, timeouts, store errors and registry internals are outages', async () => {
  const c = await startCluster();
  try {
    const router = new OriginRouter({ registry: c.client, protocol: 'rtmp', settings: SETTINGS, logger: c.logger });
    await assert.rejects(pick(router, 'v/live/none'), (e: unknown) => errorCode(e) === 'SRSP_ERR_NO_ORIGIN');
    assert.equal(router.controlPlane.degraded, false);
  } finally {
    await c.close();
  }
  assert.equal(isControlPlaneFailure(new RegistryUnavailableError('down')), true);
  assert.equal(isControlPlaneFailure(new RemoteError('SRSP_ERR_STORE_UNAVAILABLE', 'redis')), true);
  assert.equal(isControlPlaneFailure(new RemoteError('SRSP_ERR_INTERNAL', 'boom')), true);
  assert.equal(isControlPlaneFailure(new RemoteError('SRSP_ERR_NO_ORIGIN', 'none')), false);
  assert.equal(isControlPlaneFailure(new RemoteError('SRSP_ERR_BAD_MESSAGE', 'bad')), false);
  assert.equal(isControlPlaneFailure(new Error('ECONNREFUSED')), false);
});
