import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PLACEMENT_BATCH, type PlacementClaim } from '@srs-proxy/balancer';
import { subjects, type RegistryClient, type StreamPickedEvent } from '@srs-proxy/bus';
import { PlacementLeases, type LeaseTimers } from '../src/placement-leases.ts';
import { startCluster, type TestCluster } from './support.ts';

/** Timers moved by hand: `fire()` runs what is due, so no test waits on a wall clock. */
class HandTimers implements LeaseTimers {
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  #id = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    this.pending.set(++this.#id, { fn, ms });
    return this.#id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Runs every pending timer once (a renewal round) and waits for the round to finish. */
  async fire(leases: PlacementLeases): Promise<void> {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const t of due) t.fn();
    await leases.renew();
  }
}

const INTERVAL_MS = 3_000;
let seq = 0;
const stream = (tag: string) => `__defaultVhost__/live/lease-${tag}-${++seq}`;

function leasesOf(c: TestCluster, timers: HandTimers, registry: Pick<RegistryClient, 'assertPlacements'> = c.client): PlacementLeases {
  return new PlacementLeases({ registry, edge: 'rtmp-edge', logger: c.logger, intervalMs: INTERVAL_MS, timers });
}

test('a live publisher\'s lease writes a lost mapping, refreshes it, and wins a conflict (announced once, logged once)', async () => {
  const c = await startCluster();
  const timers = new HandTimers();
  const leases = leasesOf(c, timers);
  const picked: StreamPickedEvent[] = [];
  const sub = c.bus.subscribe(subjects.streamPicked, (e) => picked.push(e as StreamPickedEvent));
  try {
    const a = await c.register('a', 1);
    const b = await c.register('b', 2);
    const lost = stream('lost');
    const moved = stream('moved');
    // Another client re-picked `moved` onto b while its publisher relays to a.
    assert.equal((await c.client.pick(moved, { avoid: [a] })).origin.id, b);
    assert.equal(leases.scheduled, false, 'idle without publishers');
    leases.add(lost, a, 'rtmp');
    leases.add(moved, a, 'rtmp');
    assert.equal(leases.scheduled, true);
    assert.deepEqual([...timers.pending.values()].map((t) => t.ms), [INTERVAL_MS]);
    assert.deepEqual(await c.balancer.listStreamPage({ limit: 10, stream_url: lost }), { streams: [] }, 'nothing claimed before the first interval');

    await timers.fire(leases);
    assert.deepEqual({ ...leases.counts }, { written: 1, refreshed: 0, conflict: 1, 'unknown-origin': 0, failed: 0 });
    assert.equal((await c.client.pick(lost)).origin.id, a);
    assert.equal((await c.client.pick(moved)).origin.id, a, 'the publisher\'s origin wins');
    const announced = picked.filter((e) => e.stream_url === moved && e.replaced !== undefined);
    assert.equal(announced.length, 1);
    assert.equal(announced[0]!.origin_id, a);
    assert.equal(announced[0]!.replaced, b);
    assert.equal(timers.pending.size, 1, 'the next renewal is scheduled');

    await timers.fire(leases);
    assert.equal(leases.counts.refreshed, 2);
    assert.equal(leases.counts.conflict, 1);
    assert.equal(c.logs.matching(/placement conflict/).length, 1, 'one conflict, one line');
    assert.equal(picked.filter((e) => e.stream_url === moved).length, 2, 'the first pick and the conflict; a refresh announces nothing');
  } finally {
    sub.unsubscribe();
    leases.close();
    await c.close();
  }
});

test('an origin the store does not know is claimed again next interval; released leases stop the renewals', async () => {
  const c = await startCluster();
  const timers = new HandTimers();
  const leases = leasesOf(c, timers);
  try {
    const s = stream('ghost');
    const lease = leases.add(s, 'ghost-svc-1', 'srt');
    await timers.fire(leases);
    assert.equal(leases.counts['unknown-origin'], 1);
    assert.deepEqual((await c.balancer.listStreamPage({ limit: 10, stream_url: s })).streams, [], 'nothing written');
    await c.register('ghost', 3);
    await timers.fire(leases);
    assert.equal(leases.counts.written, 1);
    const placed = (await c.balancer.listStreamPage({ limit: 10, stream_url: s })).streams[0];
    assert.equal(placed?.origin_id, 'ghost-svc-1');
    assert.equal(placed?.protocol, 'srt');
    lease.release();
    lease.release();
    assert.equal(leases.size, 0);
    assert.equal(leases.scheduled, false);
    assert.equal(timers.pending.size, 0, 'no timer while nothing is held');
  } finally {
    leases.close();
    await c.close();
  }
});

test('a control plane outage fails renewals (logged once, counted) and the next interval after it returns re-asserts', async () => {
  const c = await startCluster();
  const timers = new HandTimers();
  const leases = leasesOf(c, timers);
  try {
    const a = await c.register('a', 1);
    const s = stream('outage');
    leases.add(s, a, 'rtmp');
    await c.stopRegistry();
    for (let i = 0; i < 5; i++) await timers.fire(leases);
    assert.equal(leases.counts.failed, 5);
    assert.equal(c.logs.matching(/renewing placement leases failed/).length, 1, 'rate-limited');
    assert.equal(timers.pending.size, 1, 'still renewing');
    await c.startRegistry();
    await timers.fire(leases);
    assert.equal(leases.counts.written, 1, 'the mapping was never placed; the lease placed it');
    assert.equal((await c.client.pick(s)).origin.id, a);
  } finally {
    leases.close();
    await c.close();
  }
});

test('claims go out in bounded batches, one claim per stream (the newest lease wins)', async () => {
  const c = await startCluster();
  const timers = new HandTimers();
  const batches: number[] = [];
  const counting: Pick<RegistryClient, 'assertPlacements'> = {
    assertPlacements: (claims: PlacementClaim[], edge?: string) => {
      batches.push(claims.length);
      return c.client.assertPlacements(claims, edge);
    },
  };
  const leases = leasesOf(c, timers, counting);
  try {
    const a = await c.register('a', 1);
    const b = await c.register('b', 2);
    const n = MAX_PLACEMENT_BATCH * 2 + MAX_PLACEMENT_BATCH / 2;
    for (let i = 0; i < n; i++) leases.add(stream('many'), a);
    const twice = stream('twice');
    const old = leases.add(twice, b);
    leases.add(twice, a);
    await timers.fire(leases);
    assert.deepEqual(batches, [MAX_PLACEMENT_BATCH, MAX_PLACEMENT_BATCH, MAX_PLACEMENT_BATCH / 2 + 1]);
    assert.equal((await c.client.pick(twice)).origin.id, a);
    old.release();
    assert.equal(leases.size, n + 1);
  } finally {
    leases.close();
    await c.close();
  }
});

test('bad settings are refused; a closed lease set takes no leases and never schedules', async () => {
  const c = await startCluster();
  try {
    assert.throws(() => new PlacementLeases({ registry: c.client, edge: 'x', logger: c.logger, intervalMs: 0 }), /interval must be positive/);
    const timers = new HandTimers();
    const leases = leasesOf(c, timers);
    leases.close();
    leases.add(stream('closed'), 'a-svc-1').release();
    assert.equal(leases.size, 0);
    assert.equal(timers.pending.size, 0);
  } finally {
    await c.close();
  }
});
