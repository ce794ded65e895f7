import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BusRegistryClient, NatsTransport, subjects, type OriginExpiredEvent, type StreamPickedEvent } from '@srs-proxy/bus';
import { createLogger } from '@srs-proxy/runtime';
import { startNats, startRedis, waitFor, type RunningServer } from '../../../test/support/index.ts';
import { spawnRegistry, type RegistryProcess } from './cluster-support.ts';
import { http } from './support.ts';

/** Short liveness window so the expiry failover happens within the test; heartbeats every 400 ms. */
const ORIGIN_TTL = '2s';
const HEARTBEAT_MS = 400;
const STREAMS = 1_000;
/** Bounded in-flight picks: both registries and Redis stay busy without queueing past the timeout. */
const IN_FLIGHT = 200;
/** Generous: 2 cores shared with other suites; a pick normally takes about a millisecond. */
const PICK_TIMEOUT_MS = 10_000;

const logger = createLogger({ service: 'cluster-test', level: 'silent' });
let redis: RunningServer;
let nats: RunningServer;
let registries: RegistryProcess[] = [];
let bus: NatsTransport;
let client: BusRegistryClient;
const heartbeating = new Map<string, string>(); // origin id → body
let heartbeatTimer: NodeJS.Timeout | undefined;

function originBody(n: number): string {
  return JSON.stringify({ device_id: `origin${n}`, ip: `127.0.0.${n}`, server: `vid-o${n}`, service: `svc0000${n}`, pid: String(1000 + n), rtmp: [String(19350 + n)], http: [String(8080 + n)], api: [String(19850 + n)] });
}
const idOf = (n: number) => `vid-o${n}-svc0000${n}-${1000 + n}`;

async function heartbeat(body: string, via: RegistryProcess): Promise<void> {
  const res = await http(via.systemPort, { path: '/api/v1/srs/register', headers: { 'content-type': 'application/json' }, body });
  assert.equal(res.status, 200, res.body);
}

before(async () => {
  [redis, nats] = await Promise.all([startRedis(), startNats()]);
  const env = { PROXY_ORIGIN_SERVER_TTL: ORIGIN_TTL, SRSP_TEST_SWEEP_MS: '300' };
  registries = await Promise.all([0, 1].map(() => spawnRegistry({ natsUrl: nats.url, redisPort: redis.port, env })));
  bus = await NatsTransport.connect({ servers: nats.url, name: 'cluster-test-edge', logger });
  client = new BusRegistryClient(bus, PICK_TIMEOUT_MS);
  // Origins 1-3 register through different registries and keep heartbeating, like SRS does.
  for (const n of [1, 2, 3]) heartbeating.set(idOf(n), originBody(n));
  let turn = 0;
  const beat = async () => {
    await Promise.all([...heartbeating.values()].map((b) => heartbeat(b, registries[turn++ % registries.length]!)));
  };
  await beat();
  heartbeatTimer = setInterval(() => void beat().catch(() => undefined), HEARTBEAT_MS);
});

after(async () => {
  clearInterval(heartbeatTimer);
  await bus?.close();
  await Promise.all(registries.map((r) => r.stop()));
  await Promise.all([redis?.stop(), nats?.stop()]);
});

test(`${STREAMS} new streams picked concurrently through two registries: one origin per stream`, async () => {
  const picksBefore = await Promise.all(registries.map((r) => r.picksServed()));
  const picked = new Map<string, Set<string>>();
  let fresh = 0;
  // Each stream is asked for twice at once (a publisher and a player arriving together); the
  // queue group spreads the two requests over both registries.
  const jobs = Array.from({ length: STREAMS }, (_, i) => `__defaultVhost__/live/cluster-${i}`).flatMap((s) => [s, s]);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const stream = jobs[next++]!;
      const r = await client.pick(stream, { protocol: 'rtmp' });
      if (r.fresh) fresh++;
      const set = picked.get(stream) ?? new Set();
      set.add(r.origin.id);
      picked.set(stream, set);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));

  assert.equal(picked.size, STREAMS);
  const split = [...picked.entries()].filter(([, ids]) => ids.size !== 1);
  assert.deepEqual(split, [], 'a stream was placed on two origins');
  assert.equal(fresh, STREAMS, 'exactly one of the two racing picks per stream creates the mapping');
  const perOrigin = new Map<string, number>();
  for (const ids of picked.values()) for (const id of ids) perOrigin.set(id, (perOrigin.get(id) ?? 0) + 1);
  assert.deepEqual([...perOrigin.keys()].sort(), [idOf(1), idOf(2), idOf(3)]);

  // Both replicas answered (queue group), and together they answered every request once.
  const served = (await Promise.all(registries.map((r) => r.picksServed()))).map((n, i) => n - picksBefore[i]!);
  assert.equal(served[0]! + served[1]!, jobs.length);
  assert.ok(served[0]! > jobs.length / 10 && served[1]! > jobs.length / 10, `registries served ${served.join('/')}`);

  // Both sides agree: the shared store (read through either registry's cluster view) holds the same mapping.
  for (const reg of registries) {
    const res = await http(reg.systemPort, { method: 'GET', path: '/api/v1/proxy/streams?limit=1000' });
    const mappings = (res.json().streams as Array<{ stream_url: string; origin_id: string }>).filter((m) => m.stream_url.includes('/live/cluster-'));
    assert.equal(mappings.length, STREAMS);
    for (const m of mappings) assert.equal(m.origin_id, [...picked.get(m.stream_url)!][0]);
  }
  // And a later pick through either registry is sticky.
  for (let i = 0; i < 20; i++) {
    const stream = `__defaultVhost__/live/cluster-${i}`;
    const again = await client.pick(stream);
    assert.equal(again.fresh, false);
    assert.equal(again.origin.id, [...picked.get(stream)!][0]);
  }
});

test('a sticky mapping fails over when its origin is reported failed', async () => {
  const stream = '__defaultVhost__/live/report-failover';
  const events: StreamPickedEvent[] = [];
  const sub = bus.subscribe(subjects.streamPicked, (e) => {
    if ((e as StreamPickedEvent).stream_url === stream) events.push(e as StreamPickedEvent);
  });
  try {
    const first = await client.pick(stream);
    assert.equal((await client.pick(stream)).origin.id, first.origin.id);
    await client.reportFailure(first.origin.id, stream, 'connect ECONNREFUSED');
    const second = await client.pick(stream);
    assert.notEqual(second.origin.id, first.origin.id);
    assert.equal(second.fresh, true);
    // The new mapping is sticky for every replica.
    for (let i = 0; i < 6; i++) assert.equal((await client.pick(stream)).origin.id, second.origin.id);
    await waitFor(() => events.length >= 2, { timeoutMs: 5000, what: 'stream picked events' });
    assert.equal(events[0]!.origin_id, first.origin.id);
    assert.equal(events[1]!.origin_id, second.origin.id);
    // reportFailure drops the mapping, so the next pick is a first pick (no `replaced` needed).
    assert.ok(events[1]!.replaced === undefined || events[1]!.replaced === first.origin.id);
  } finally {
    sub.unsubscribe();
  }
});

test('a sticky mapping fails over when its origin stops heartbeating and expires', async () => {
  const expired: OriginExpiredEvent[] = [];
  const sub = bus.subscribe(subjects.originExpired, (e) => expired.push(e as OriginExpiredEvent));
  try {
    // Origin 4 joins, then a stream is placed on it (avoid the others for the first pick).
    heartbeating.set(idOf(4), originBody(4));
    await heartbeat(originBody(4), registries[1]!);
    const stream = '__defaultVhost__/live/expiry-failover';
    const first = await client.pick(stream, { avoid: [idOf(1), idOf(2), idOf(3)] });
    assert.equal(first.origin.id, idOf(4));
    assert.equal((await client.pick(stream)).origin.id, idOf(4));

    heartbeating.delete(idOf(4)); // the origin dies: no more heartbeats
    const after = await waitFor(async () => {
      const r = await client.pick(stream);
      return r.origin.id !== idOf(4) ? r : undefined;
    }, { timeoutMs: 10_000, intervalMs: 200, what: 'failover off the expired origin' });
    assert.ok([idOf(1), idOf(2), idOf(3)].includes(after.origin.id));
    assert.equal((await client.pick(stream)).origin.id, after.origin.id);
    await waitFor(() => expired.some((e) => e.origin_id === idOf(4)), { timeoutMs: 10_000, what: 'origin expired event' });
    // The expired origin is gone from the cluster view; the live ones stay.
    const view = await http(registries[0]!.systemPort, { method: 'GET', path: '/api/v1/proxy/origins' });
    const alive = (view.json().origins as Array<{ origin: { id: string }; alive: boolean }>).filter((o) => o.alive).map((o) => o.origin.id).sort();
    assert.deepEqual(alive, [idOf(1), idOf(2), idOf(3)]);
  } finally {
    sub.unsubscribe();
  }
});
