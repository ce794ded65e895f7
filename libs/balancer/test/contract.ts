/**
 * The balancer contract: one suite, run by balancer-contract.test.ts against MemoryBalancer and
 * RedisBalancer. Time is injected (`now`); Redis key TTLs run on real time, so `advance` both
 * moves the injected clock and, for Redis, sleeps.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { parseRegisterBody, MAX_PLACEMENT_BATCH, type Balancer, type BalancerOptions, type HlsSession, type OriginRecord, type RtcSession } from '../src/index.ts';
import { seededRandom } from '../../../test/support/random.ts';

export interface Harness {
  name: string;
  /** A fresh, isolated, initialised balancer using `now` from the clock. */
  make(opts: Partial<BalancerOptions>): Promise<Balancer>;
  /** Real sleeping needed for store-side TTLs (Redis); memory needs none. */
  realTime: boolean;
  /** Asserts that every piece of state the balancer holds is bounded by a cap or a TTL. */
  assertBounded(b: Balancer, caps: { streams: number; hls: number; rtc: number }): Promise<void>;
}

export class Clock {
  t = Date.now();
  now = () => this.t;
}

export function origin(n: number, now: number, extra: Record<string, unknown> = {}): OriginRecord {
  return parseRegisterBody({ ip: '127.0.0.1', server: `vid-${n}`, service: `svc${n}`, pid: String(1000 + n), rtmp: [String(19350 + n)], http: ['8080'], ...extra }, now);
}

/** SRS heartbeat `summaries` reporting this host CPU ratio. */
export function summaries(cpu: number): Record<string, unknown> {
  return { data: { ok: true, now_ms: 0, self: { cpu_percent: cpu / 2, mem_percent: 0.01 }, system: { cpu_percent: cpu, load_1m: 0.1, cpus: 8, cpus_online: 8, conn_srs: 10 } } };
}

/** Streams per origin id over `n` first picks of new streams. */
async function placeMany(b: Balancer, n: number, tag: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await b.pick(stream(tag));
    counts.set(r.origin.id, (counts.get(r.origin.id) ?? 0) + 1);
  }
  return counts;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const stream = (tag: string) => `__defaultVhost__/live/${tag}-${++seq}`;
const hls = (url: string, spbhid: string): HlsSession => ({ v: 1, spbhid, stream_url: url, full_url: `http://h${url}.m3u8` });
const rtc = (ufrag: string): RtcSession => ({ v: 1, ufrag, stream_url: '__defaultVhost__/live/rtc', origin_id: 'o', rtc_host: '127.0.0.1', rtc_port: 8000 });

export function balancerContract(h: Harness): void {
  describe(`Balancer contract: ${h.name}`, () => {
    let clock: Clock;
    let b: Balancer;
    const open: Balancer[] = [];
    const make = async (opts: Partial<BalancerOptions> = {}) => {
      const x = await h.make({ now: clock.now, ...opts });
      open.push(x);
      return x;
    };
    const advance = async (ms: number) => {
      clock.t += ms;
      if (h.realTime) await sleep(ms);
    };

    beforeEach(async () => {
      clock = new Clock();
      b = await make();
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((x) => x.close()));
    });

    it('update reports new origins once and lists them', async () => {
      assert.equal(await b.update(origin(1, clock.t)), true);
      assert.equal(await b.update(origin(1, clock.t)), false);
      assert.equal(await b.update(origin(2, clock.t)), true);
      const list = await b.listOrigins();
      assert.deepEqual(list.map((s) => s.origin.id).sort(), ['vid-1-svc1-1001', 'vid-2-svc2-1002']);
      assert.ok(list.every((s) => s.alive && s.penalized_until === 0));
    });

    it('fails with SRSP_ERR_NO_ORIGIN when nothing is registered', async () => {
      await assert.rejects(b.pick(stream('none')), { code: 'SRSP_ERR_NO_ORIGIN' });
    });

    it('is sticky: every later pick of a stream returns the first origin', async () => {
      for (let i = 1; i <= 3; i++) await b.update(origin(i, clock.t));
      const s = stream('sticky');
      const first = await b.pick(s);
      assert.equal(first.fresh, true);
      for (let i = 0; i < 20; i++) {
        const again = await b.pick(s);
        assert.equal(again.origin.id, first.origin.id);
        assert.equal(again.fresh, false);
      }
    });

    it('placeNew: false (settling after a store reset) answers live mappings and places nothing new', async () => {
      for (let i = 1; i <= 3; i++) await b.update(origin(i, clock.t));
      const liveStream = stream('settle-live');
      const newStream = stream('settle-new');
      const live = await b.pick(liveStream);
      const again = await b.pick(liveStream, { placeNew: false });
      assert.equal(again.origin.id, live.origin.id);
      assert.equal(again.fresh, false);
      await assert.rejects(b.pick(newStream, { placeNew: false }), { code: 'SRSP_ERR_PLACEMENT_SETTLING' });
      const later = await b.pick(newStream);
      assert.equal(later.fresh, true, 'nothing was placed while settling');
    });

    it('agrees with itself on concurrent first picks of one stream', async () => {
      for (let i = 1; i <= 5; i++) await b.update(origin(i, clock.t));
      const s = stream('concurrent');
      const results = await Promise.all(Array.from({ length: 50 }, () => b.pick(s)));
      assert.equal(new Set(results.map((r) => r.origin.id)).size, 1);
    });

    it('spreads new streams across origins', async () => {
      for (let i = 1; i <= 3; i++) await b.update(origin(i, clock.t));
      const counts = new Map<string, number>();
      for (let i = 0; i < 300; i++) {
        const r = await b.pick(stream('spread'));
        counts.set(r.origin.id, (counts.get(r.origin.id) ?? 0) + 1);
      }
      assert.equal(counts.size, 3);
      // Uniform choice gives ~100 each; below 50 has probability < 1e-8.
      for (const [id, n] of counts) assert.ok(n > 50, `${id} got only ${n} of 300`);
    });

    it('least-streams: 9 new streams on 3 healthy origins place 3/3/3', async () => {
      const seed = 9;
      const x = await make({ strategy: 'least-streams', random: seededRandom(seed) });
      for (let i = 1; i <= 3; i++) await x.update(origin(i, clock.t));
      const counts = await placeMany(x, 9, 'even');
      assert.deepEqual([...counts.values()], [3, 3, 3], `seed ${seed}: ${JSON.stringify([...counts])}`);
    });

    it('least-streams: counts follow failover, so the next new streams refill the origin that lost one', async () => {
      const x = await make({ strategy: 'least-streams', random: seededRandom(4) });
      for (let i = 1; i <= 3; i++) await x.update(origin(i, clock.t));
      const urls = Array.from({ length: 6 }, () => stream('refill'));
      for (const u of urls) await x.pick(u);
      // One stream moves off its origin by avoid (no penalty): that origin now holds 1, the others 2 or 3.
      const first = await x.pick(urls[0]!);
      const moved = await x.pick(urls[0]!, { avoid: [first.origin.id] });
      assert.equal(moved.replaced, first.origin.id);
      assert.equal((await x.pick(stream('refill'))).origin.id, first.origin.id);
    });

    it('least-load: an origin reporting high load receives far fewer new streams', async () => {
      const seed = 21;
      const x = await make({ strategy: 'least-load', random: seededRandom(seed) });
      await x.update(origin(1, clock.t, { summaries: summaries(0.95) }));
      await x.update(origin(2, clock.t, { summaries: summaries(0.1) }));
      await x.update(origin(3, clock.t, { summaries: summaries(0.15) }));
      const counts = await placeMany(x, 60, 'load');
      const msg = `seed ${seed}: ${JSON.stringify([...counts])}`;
      // Two choices of three: the loaded origin loses every comparison; the two idle ones (loads
      // within the tie margin) split the streams by count.
      assert.equal(counts.get('vid-1-svc1-1001') ?? 0, 0, msg);
      assert.ok(Math.abs(counts.get('vid-2-svc2-1002')! - counts.get('vid-3-svc3-1003')!) <= 2, msg);
      // Once it reports idle again it takes new streams (its count is lowest, the loads tie).
      await x.update(origin(1, clock.t, { summaries: summaries(0.1) }));
      const after = await placeMany(x, 20, 'load-after');
      assert.ok((after.get('vid-1-svc1-1001') ?? 0) >= 12, `seed ${seed}: ${JSON.stringify([...after])}`);
    });

    it('sticky: an existing mapping is not moved when its origin reports high load', async () => {
      const x = await make({ strategy: 'least-load', random: seededRandom(2) });
      for (let i = 1; i <= 3; i++) await x.update(origin(i, clock.t, { summaries: summaries(0.1) }));
      const s = stream('sticky-load');
      const first = await x.pick(s);
      const n = Number(first.origin.pid) - 1000;
      await x.update(origin(n, clock.t, { summaries: summaries(1) }));
      for (let i = 0; i < 5; i++) {
        const again = await x.pick(s);
        assert.equal(again.origin.id, first.origin.id);
        assert.equal(again.fresh, false);
      }
      // New streams do avoid it.
      for (let i = 0; i < 10; i++) assert.notEqual((await x.pick(stream('new-after-load'))).origin.id, first.origin.id);
    });

    it('least-load: missing, malformed, deep, huge or NaN summaries fall back to stream counts and never throw', async () => {
      const seed = 13;
      const x = await make({ strategy: 'least-load', random: seededRandom(seed) });
      let deep: Record<string, unknown> = { cpu_percent: 0.5 };
      for (let i = 0; i < 500; i++) deep = { data: deep };
      const garbage: unknown[] = [
        undefined,
        { data: 'busy' },
        deep,
        { data: { system: { cpu_percent: NaN, load_1m: 'high', cpus: -3 }, self: [1, 2] } },
        { data: { self: null, system: { cpu_percent: -1, load_1m: Infinity } } },
      ];
      for (let i = 0; i < garbage.length; i++) {
        const rec = origin(i + 1, clock.t);
        if (garbage[i] !== undefined) rec.summaries = garbage[i];
        await x.update(rec);
      }
      const counts = await placeMany(x, 50, 'garbage');
      const msg = `seed ${seed}: ${JSON.stringify([...counts])}`;
      assert.equal(counts.size, garbage.length, msg);
      for (const n of counts.values()) assert.ok(n >= 8 && n <= 12, msg);
      // A huge number is a (clamped) load, not a crash: next to origins reporting real loads it is
      // simply the most loaded. (Against an origin with no load signal, stream counts decide.)
      const y = await make({ strategy: 'least-load', random: seededRandom(seed) });
      await y.update(origin(1, clock.t, { summaries: { data: { system: { cpu_percent: 1e308, load_1m: 1e308 } } } }));
      await y.update(origin(2, clock.t, { summaries: summaries(0.1) }));
      await y.update(origin(3, clock.t, { summaries: summaries(0.2) }));
      const more = await placeMany(y, 30, 'huge');
      assert.equal(more.get('vid-1-svc1-1001') ?? 0, 0, `seed ${seed}: ${JSON.stringify([...more])}`);
    });

    it('fails over when the mapped origin expires, and keeps the replacement sticky', async () => {
      const t0 = clock.t;
      await b.update(origin(1, t0));
      await b.update(origin(2, t0));
      const s = stream('expire');
      const first = await b.pick(s);
      const other = first.origin.id === 'vid-1-svc1-1001' ? 2 : 1;
      // Only the other origin keeps heartbeating; the mapped one falls out of the 300 s window.
      clock.t = t0 + 200_000;
      await b.update(origin(other, clock.t));
      clock.t = t0 + 301_000;
      const moved = await b.pick(s);
      assert.notEqual(moved.origin.id, first.origin.id);
      assert.equal(moved.fresh, true);
      assert.equal(moved.replaced, first.origin.id);
      const again = await b.pick(s);
      assert.equal(again.origin.id, moved.origin.id);
      assert.equal(again.fresh, false);
    });

    it('fails over when the mapped origin is gone from the store', async () => {
      await b.update(origin(1, clock.t));
      const s = stream('gone');
      assert.equal((await b.pick(s)).origin.id, 'vid-1-svc1-1001');
      clock.t += 301_000;
      const expired = await b.sweepExpired();
      assert.deepEqual(expired.map((o) => o.id), ['vid-1-svc1-1001']);
      await b.update(origin(2, clock.t));
      const r = await b.pick(s);
      assert.equal(r.origin.id, 'vid-2-svc2-1002');
      assert.equal(r.replaced, 'vid-1-svc1-1001');
    });

    it('does not pick an expired origin for a new stream', async () => {
      await b.update(origin(1, clock.t));
      clock.t += 300_000;
      await assert.rejects(b.pick(stream('dead')), { code: 'SRSP_ERR_NO_ORIGIN' });
    });

    it('reportFailure drops the mapping and the next picks avoid the origin', async () => {
      await b.update(origin(1, clock.t));
      await b.update(origin(2, clock.t));
      const s = stream('fail');
      const first = await b.pick(s);
      await b.reportFailure(first.origin.id, s);
      const next = await b.pick(s);
      assert.notEqual(next.origin.id, first.origin.id);
      assert.equal(next.fresh, true);
      // The penalty also steers other new streams away while it lasts.
      for (let i = 0; i < 20; i++) assert.notEqual((await b.pick(stream('penalised'))).origin.id, first.origin.id);
      const status = (await b.listOrigins()).find((o) => o.origin.id === first.origin.id);
      assert.ok(status !== undefined && status.penalized_until > clock.t);
      // After the penalty (30 s default) it is a candidate again.
      clock.t += 31_000;
      await b.update(origin(1, clock.t));
      await b.update(origin(2, clock.t));
      const seen = new Set<string>();
      for (let i = 0; i < 40; i++) seen.add((await b.pick(stream('recovered'))).origin.id);
      assert.equal(seen.size, 2);
    });

    it('reportFailure for an origin the stream no longer uses keeps the mapping', async () => {
      await b.update(origin(1, clock.t));
      await b.update(origin(2, clock.t));
      const s = stream('stale-report');
      const first = await b.pick(s);
      const other = first.origin.id === 'vid-1-svc1-1001' ? 'vid-2-svc2-1002' : 'vid-1-svc1-1001';
      await b.reportFailure(other, s);
      const again = await b.pick(s);
      assert.equal(again.origin.id, first.origin.id);
      assert.equal(again.fresh, false);
    });

    it('a penalised origin is still used when it is the only one', async () => {
      await b.update(origin(1, clock.t));
      const s = stream('only');
      await b.pick(s);
      await b.reportFailure('vid-1-svc1-1001', s);
      assert.equal((await b.pick(s)).origin.id, 'vid-1-svc1-1001');
    });

    it('avoid replaces a mapping to an avoided origin and never picks it', async () => {
      await b.update(origin(1, clock.t));
      await b.update(origin(2, clock.t));
      const s = stream('avoid');
      const first = await b.pick(s);
      const r = await b.pick(s, { avoid: [first.origin.id] });
      assert.notEqual(r.origin.id, first.origin.id);
      assert.equal(r.replaced, first.origin.id);
      await assert.rejects(b.pick(stream('avoid-all'), { avoid: ['vid-1-svc1-1001', 'vid-2-svc2-1002'] }), { code: 'SRSP_ERR_NO_ORIGIN' });
    });

    it('filters by protocol for new streams; a mapped origin without it is an error, not a move', async () => {
      await b.update(origin(1, clock.t, { srt: [] }));
      await b.update(origin(2, clock.t, { srt: ['udp://0.0.0.0:10080'] }));
      for (let i = 0; i < 20; i++) assert.equal((await b.pick(stream('srt'), { protocol: 'srt' })).origin.id, 'vid-2-svc2-1002');
      const s = stream('rtmp-published');
      assert.equal((await b.pick(s, { protocol: 'rtmp', avoid: ['vid-2-svc2-1002'] })).origin.id, 'vid-1-svc1-1001');
      await assert.rejects(b.pick(s, { protocol: 'srt' }), { code: 'SRSP_ERR_NO_ORIGIN' });
      assert.equal((await b.pick(s, { protocol: 'rtmp' })).origin.id, 'vid-1-svc1-1001');
      await assert.rejects(b.pick(stream('no-rtc'), { protocol: 'rtc' }), { code: 'SRSP_ERR_NO_ORIGIN' });
    });

    it('lists stream mappings, at most `limit`', async () => {
      await b.update(origin(1, clock.t));
      const urls = [stream('list'), stream('list'), stream('list')];
      for (const u of urls) await b.pick(u);
      const all = await b.listStreams();
      assert.deepEqual(all.map((m) => m.stream_url).sort(), [...urls].sort());
      assert.ok(all.every((m) => m.origin_id === 'vid-1-svc1-1001'));
      assert.equal((await b.listStreams(2)).length, 2);
    });

    it('sweepExpired returns each expired origin once, with its last record', async () => {
      const t0 = clock.t;
      await b.update(origin(1, t0));
      await b.update(origin(2, t0));
      clock.t = t0 + 100_000;
      await b.update(origin(2, clock.t));
      assert.deepEqual(await b.sweepExpired(), []);
      clock.t = t0 + 300_000;
      const expired = await b.sweepExpired();
      assert.equal(expired.length, 1);
      assert.equal(expired[0]!.id, 'vid-1-svc1-1001');
      assert.equal(expired[0]!.rtmp[0], '19351');
      assert.deepEqual(await b.sweepExpired(), []);
      assert.deepEqual((await b.listOrigins()).map((o) => o.origin.id), ['vid-2-svc2-1002']);
    });

    it('HLS keeps one session per stream however many playlists are requested', async () => {
      const url = stream('hls');
      const first = await b.loadOrStoreHls(hls(url, 'a000001'));
      assert.equal(first.spbhid, 'a000001');
      for (let i = 2; i < 200; i++) {
        const s = await b.loadOrStoreHls(hls(url, `a${String(i).padStart(6, '0')}`));
        assert.equal(s.spbhid, 'a000001');
      }
      assert.deepEqual(await b.loadHlsBySpbhid('a000001'), first);
      assert.equal(await b.loadHlsBySpbhid('a000002'), undefined);
      assert.equal(await b.loadHlsBySpbhid('a000150'), undefined);
      const other = await b.loadOrStoreHls(hls(stream('hls'), 'b000001'));
      assert.equal(other.spbhid, 'b000001');
    });

    it('HLS sessions expire after the TTL and are refreshed by segment requests', async () => {
      const ttl = 1_500; // the "still alive" checks below leave 800 ms of slack for a loaded machine
      const x = await make({ hlsTtlMs: ttl });
      const url = stream('hls-ttl');
      await x.loadOrStoreHls(hls(url, 'c000001'));
      await advance(700);
      assert.ok(await x.loadHlsBySpbhid('c000001'), 'a segment request within the TTL finds it');
      await advance(700);
      assert.ok(await x.loadHlsBySpbhid('c000001'), 'refreshed by the previous lookup');
      assert.equal((await x.loadOrStoreHls(hls(url, 'c000002'))).spbhid, 'c000001', 'the stream entry was refreshed too');
      await advance(ttl + 300);
      assert.equal(await x.loadHlsBySpbhid('c000001'), undefined);
      assert.equal((await x.loadOrStoreHls(hls(url, 'c000003'))).spbhid, 'c000003', 'a new session after expiry');
    });

    it('WebRTC sessions are found by the full ufrag, refreshed on lookup, and expire', async () => {
      const ttl = 1_500; // the "still alive" checks below leave 800 ms of slack for a loaded machine
      const x = await make({ rtcTtlMs: ttl });
      await x.storeRtc(rtc('ans1:off1'));
      assert.deepEqual(await x.loadRtcByUfrag('ans1:off1'), rtc('ans1:off1'));
      assert.equal(await x.loadRtcByUfrag('ans1'), undefined);
      assert.equal(await x.loadRtcByUfrag('off1:ans1'), undefined);
      await advance(700);
      assert.ok(await x.loadRtcByUfrag('ans1:off1'));
      await advance(700);
      assert.ok(await x.loadRtcByUfrag('ans1:off1'), 'refreshed by the previous lookup');
      await advance(ttl + 300);
      assert.equal(await x.loadRtcByUfrag('ans1:off1'), undefined);
    });

    it('stream mappings expire when unused and are refreshed by picks', async () => {
      const ttl = 1_500; // the "still alive" checks below leave 800 ms of slack for a loaded machine
      const x = await make({ streamTtlMs: ttl });
      for (let i = 1; i <= 4; i++) await x.update(origin(i, clock.t));
      const s = stream('map-ttl');
      assert.equal((await x.pick(s)).fresh, true);
      await advance(700);
      assert.equal((await x.pick(s)).fresh, false);
      await advance(700);
      assert.equal((await x.pick(s)).fresh, false, 'refreshed by the previous pick');
      await advance(ttl + 300);
      await x.sweepExpired();
      assert.ok(!(await x.listStreams()).some((m) => m.stream_url === s));
      const again = await x.pick(s);
      assert.equal(again.fresh, true);
      assert.equal(again.replaced, undefined);
    });

    it('caps the number of origins, evicting the stalest', async () => {
      const x = await make({ maxOrigins: 10 });
      for (let i = 1; i <= 25; i++) {
        clock.t += 1;
        await x.update(origin(i, clock.t));
      }
      const ids = (await x.listOrigins()).map((o) => o.origin.id).sort();
      assert.equal(ids.length, 10);
      assert.deepEqual(ids, Array.from({ length: 10 }, (_, k) => origin(16 + k, 0).id).sort());
    });

    it('assertPlacement: absent is written, same refreshed, another origin overwritten (the claim wins), unknown origin untouched', async () => {
      for (let i = 1; i <= 2; i++) await b.update(origin(i, clock.t));
      const [o1, o2] = ['vid-1-svc1-1001', 'vid-2-svc2-1002'];
      const fresh = stream('assert');
      assert.deepEqual(await b.assertPlacement([{ stream_url: fresh, origin_id: o1, protocol: 'rtmp' }]), [{ outcome: 'written' }]);
      assert.equal((await b.pick(fresh)).fresh, false);
      assert.equal((await b.pick(fresh)).origin.id, o1);
      const placed = (await b.listStreamPage({ limit: 10, stream_url: fresh })).streams[0];
      assert.equal(placed?.origin_id, o1);
      assert.equal(placed?.protocol, 'rtmp');
      assert.deepEqual(await b.assertPlacement([{ stream_url: fresh, origin_id: o1 }]), [{ outcome: 'refreshed' }]);
      // Another origin holds the stream in the store (a random re-pick after state loss): the claim overwrites it.
      const other = stream('assert-conflict');
      const picked = await b.pick(other, { avoid: [o1] });
      assert.equal(picked.origin.id, o2);
      assert.deepEqual(await b.assertPlacement([{ stream_url: other, origin_id: o1 }]), [{ outcome: 'conflict', replaced: o2 }]);
      const after = await b.pick(other);
      assert.equal(after.origin.id, o1);
      assert.equal(after.fresh, false);
      // The stream left o2's count and joined o1's (least-streams reads them).
      const counts = new Map((await b.listOrigins()).map((s) => [s.origin.id, s.streams]));
      assert.deepEqual([counts.get(o1), counts.get(o2)], [2, 0]);
      // An origin the store does not know: nothing written, the edge claims again later.
      const unknown = stream('assert-unknown');
      const answers = await b.assertPlacement([
        { stream_url: unknown, origin_id: 'vid-9-svc9-1009' },
        { stream_url: fresh, origin_id: o1 },
      ]);
      assert.deepEqual(answers, [{ outcome: 'unknown-origin' }, { outcome: 'refreshed' }]);
      assert.deepEqual((await b.listStreamPage({ limit: 10, stream_url: unknown })).streams, []);
      assert.deepEqual(await b.assertPlacement([]), []);
    });

    it('assertPlacement: an expired origin is unknown; a claim refreshes the mapping TTL', async () => {
      const ttl = 2_000; // the refresh check below lands 400 ms past the unrefreshed expiry, 800 ms before the refreshed one
      const x = await make({ streamTtlMs: ttl });
      await x.update(origin(1, clock.t));
      await x.update(origin(2, clock.t - 299_000));
      const s = stream('assert-ttl');
      assert.deepEqual(await x.assertPlacement([{ stream_url: s, origin_id: 'vid-1-svc1-1001' }]), [{ outcome: 'written' }]);
      await advance(1_200);
      assert.deepEqual(await x.assertPlacement([{ stream_url: s, origin_id: 'vid-2-svc2-1002' }]), [{ outcome: 'unknown-origin' }], 'origin 2 is past its TTL');
      assert.deepEqual(await x.assertPlacement([{ stream_url: s, origin_id: 'vid-1-svc1-1001' }]), [{ outcome: 'refreshed' }]);
      await advance(1_200);
      await x.update(origin(1, clock.t));
      assert.deepEqual(await x.assertPlacement([{ stream_url: s, origin_id: 'vid-1-svc1-1001' }]), [{ outcome: 'refreshed' }], 'kept alive by the previous claim');
      await advance(ttl + 300);
      await x.update(origin(1, clock.t));
      assert.deepEqual(await x.assertPlacement([{ stream_url: s, origin_id: 'vid-1-svc1-1001' }]), [{ outcome: 'written' }], 'expired without claims');
    });

    it('assertPlacement: a batch over the bound is refused cleanly and writes nothing', async () => {
      await b.update(origin(1, clock.t));
      const claims = Array.from({ length: MAX_PLACEMENT_BATCH + 1 }, () => ({ stream_url: stream('batch'), origin_id: 'vid-1-svc1-1001' }));
      await assert.rejects(b.assertPlacement(claims), { code: 'SRSP_ERR_BAD_PLACEMENT' });
      assert.deepEqual(await b.listStreams(), []);
      await assert.rejects(b.assertPlacement([{ stream_url: '', origin_id: 'vid-1-svc1-1001' }]), { code: 'SRSP_ERR_BAD_PLACEMENT' });
      const full = claims.slice(0, MAX_PLACEMENT_BATCH);
      assert.ok((await b.assertPlacement(full)).every((a) => a.outcome === 'written'));
      assert.equal((await b.listStreams()).length, MAX_PLACEMENT_BATCH);
    });

    it('detectReset: a store that kept its state reports no reset', async () => {
      await b.update(origin(1, clock.t));
      assert.equal(await b.detectReset(), false);
      assert.equal(await b.detectReset(), false);
    });

    it('holds bounded state under a flood of distinct streams, playlists and sessions', async () => {
      const caps = { streams: 50, hls: 20, rtc: 20 };
      const x = await make({ maxStreams: caps.streams, maxHlsSessions: caps.hls, maxRtcSessions: caps.rtc });
      await x.update(origin(1, clock.t));
      for (let i = 0; i < 300; i++) {
        const s = stream('flood');
        await x.pick(s);
        await x.loadOrStoreHls(hls(s, `f${String(i).padStart(6, '0')}`));
        await x.storeRtc(rtc(`a${i}:o${i}`));
      }
      await h.assertBounded(x, caps);
    });
  });
}
