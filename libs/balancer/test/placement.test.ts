import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRegisterBody, type OriginRecord } from '../src/index.ts';
import { eligibleOrigins, isAlive, loadScore, place, LOAD_TIE_MARGIN, MAX_LOAD, type Candidate, type PlacementStrategy } from '../src/placement.ts';
import { seededRandom } from '../../../test/support/random.ts';

const NOW = 1_000_000_000;
const TTL = 300_000;
const o = (n: number, ageMs: number, extra: Record<string, unknown> = {}): OriginRecord =>
  parseRegisterBody({ ip: '10.0.0.1', server: `s${n}`, service: 'v', pid: String(n), rtmp: ['1935'], ...extra }, NOW - ageMs);
const ids = (list: OriginRecord[]) => list.map((x) => x.id);
const summaries = (cpu: number) => ({ data: { ok: true, self: { cpu_percent: cpu / 2 }, system: { cpu_percent: cpu, load_1m: 0, cpus: 4 } } });

/** Places `n` new streams one after another, counting them as a balancer does; returns streams per id. */
function simulate(cands: Candidate[], strategy: PlacementStrategy, n: number, random: () => number): Map<string, number> {
  const live = cands.map((c) => ({ ...c }));
  const out = new Map(live.map((c) => [c.id, 0]));
  for (let i = 0; i < n; i++) {
    const c = place(live, strategy, random)!;
    c.streams++;
    out.set(c.id, out.get(c.id)! + 1);
  }
  return out;
}

describe('eligibleOrigins', () => {
  const base = { now: NOW, originTtlMs: TTL };
  it('is alive strictly within the TTL', () => {
    assert.equal(isAlive(o(1, 0), NOW, TTL), true);
    assert.equal(isAlive(o(1, TTL - 1), NOW, TTL), true);
    assert.equal(isAlive(o(1, TTL), NOW, TTL), false);
  });
  it('never offers an expired origin (no upstream fallback to dead ones)', () => {
    assert.deepEqual(ids(eligibleOrigins([o(1, TTL), o(2, 0)], base)), ['s2-v-2']);
  });
  it('filters by protocol', () => {
    const c = [o(1, 0), o(2, 0, { srt: ['10080'] }), o(3, 0, { http: ['8080'] })];
    assert.deepEqual(ids(eligibleOrigins(c, { ...base, protocol: 'srt' })), ['s2-v-2']);
    assert.deepEqual(ids(eligibleOrigins(c, { ...base, protocol: 'http' })), ['s3-v-3']);
    assert.deepEqual(ids(eligibleOrigins(c, { ...base, protocol: 'rtmp' })), ['s1-v-1', 's2-v-2', 's3-v-3']);
    assert.deepEqual(eligibleOrigins(c, { ...base, protocol: 'rtc' }), []);
  });
  it('never offers avoided origins', () => {
    assert.deepEqual(ids(eligibleOrigins([o(1, 0), o(2, 0)], { ...base, avoid: ['s1-v-1'] })), ['s2-v-2']);
  });
});

describe('place', () => {
  const strategies: PlacementStrategy[] = ['random', 'least-streams', 'least-load'];

  it('returns undefined without candidates, for every strategy', () => {
    for (const s of strategies) assert.equal(place([], s, Math.random), undefined);
  });

  it('uses penalised candidates only when nothing else qualifies, for every strategy', () => {
    for (const s of strategies) {
      for (let i = 0; i < 20; i++) {
        const r = seededRandom(i);
        assert.equal(place([{ id: 'a', streams: 0, penalised: true }, { id: 'b', streams: 50, load: 3 }], s, r)!.id, 'b', s);
        assert.equal(place([{ id: 'a', streams: 0, penalised: true }], s, r)!.id, 'a', s);
      }
    }
  });

  it('random: uniform like upstream, and safe when random() returns 1', () => {
    const c = [{ id: 'a', streams: 9 }, { id: 'b', streams: 0 }, { id: 'c', streams: 0 }];
    assert.deepEqual([0, 0.34, 0.67, 0.9999999, 1].map((r) => place(c, 'random', () => r)!.id), ['a', 'b', 'c', 'c', 'c']);
  });

  it('least-streams: 9 new streams on 3 origins place 3/3/3, whatever the seed', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const counts = simulate([{ id: 'a', streams: 0 }, { id: 'b', streams: 0 }, { id: 'c', streams: 0 }], 'least-streams', 9, seededRandom(seed));
      assert.deepEqual([...counts.values()], [3, 3, 3], `seed ${seed}: ${JSON.stringify([...counts])}`);
    }
  });

  it('least-streams: fills the emptiest origin first and breaks ties at random', () => {
    const c = [{ id: 'a', streams: 5 }, { id: 'b', streams: 2 }, { id: 'c', streams: 2 }];
    const seen = new Set<string>();
    const r = seededRandom(3);
    for (let i = 0; i < 50; i++) seen.add(place(c, 'least-streams', r)!.id);
    assert.deepEqual([...seen].sort(), ['b', 'c']);
  });

  it('least-load: a loaded origin receives far fewer new streams (stated numbers, 1,200 placements)', () => {
    const seed = 42;
    const cands: Candidate[] = [
      { id: 'hot', streams: 0, load: loadScore(summaries(0.95)) },
      { id: 'warm', streams: 0, load: loadScore(summaries(0.5)) },
      { id: 'cool1', streams: 0, load: loadScore(summaries(0.1)) },
      { id: 'cool2', streams: 0, load: loadScore(summaries(0.12)) },
    ];
    const counts = simulate(cands, 'least-load', 1_200, seededRandom(seed));
    const msg = `seed ${seed}: ${JSON.stringify([...counts])}`;
    // Two choices out of four: the hottest never wins a comparison; warm wins only against hot
    // (1 pair in 6, ~200); the cool pair ties within LOAD_TIE_MARGIN and splits the rest by count.
    assert.equal(counts.get('hot'), 0, msg);
    assert.ok(counts.get('warm')! > 140 && counts.get('warm')! < 260, msg);
    assert.ok(Math.abs(counts.get('cool1')! - counts.get('cool2')!) <= 2, msg);
  });

  it('least-load: loads within LOAD_TIE_MARGIN are a tie decided by stream counts', () => {
    const a = { id: 'a', streams: 10, load: 0.3 };
    const b = { id: 'b', streams: 2, load: 0.3 + LOAD_TIE_MARGIN / 2 };
    for (let seed = 0; seed < 20; seed++) assert.equal(place([a, b], 'least-load', seededRandom(seed))!.id, 'b');
    const c = { id: 'c', streams: 2, load: 0.3 + LOAD_TIE_MARGIN * 2 };
    for (let seed = 0; seed < 20; seed++) assert.equal(place([a, c], 'least-load', seededRandom(seed))!.id, 'a');
  });

  it('least-load: without summaries it balances by stream counts (two choices)', () => {
    const counts = simulate([{ id: 'a', streams: 0 }, { id: 'b', streams: 0 }, { id: 'c', streams: 0 }], 'least-load', 300, seededRandom(5));
    for (const [id, n] of counts) assert.ok(n >= 95 && n <= 105, `seed 5: ${id} got ${n} of 300`);
  });
});

describe('loadScore', () => {
  it('reads SRS summaries: the most saturated of host CPU, SRS CPU and load per CPU', () => {
    assert.equal(loadScore({ data: { self: { cpu_percent: 0.2 }, system: { cpu_percent: 0.3, load_1m: 1, cpus: 4 } } }), 0.3);
    assert.equal(loadScore({ data: { self: { cpu_percent: 0.9 }, system: { cpu_percent: 0.3 } } }), 0.9);
    assert.equal(loadScore({ data: { system: { cpu_percent: 0.1, load_1m: 6, cpus: 4, cpus_online: 2 } } }), 3);
    // Flat summaries (no `data` wrapper) read the same.
    assert.equal(loadScore({ system: { cpu_percent: 0.4 } }), 0.4);
  });

  it('is undefined when there is no usable number, and clamped when absurd', () => {
    const cases: Array<[unknown, number | undefined]> = [
      [undefined, undefined], [null, undefined], ['busy', undefined], [42, undefined], [[], undefined], [{}, undefined],
      [{ data: null }, undefined], [{ data: { system: 'x' } }, undefined], [{ data: { system: { cpu_percent: '0.5' } } }, undefined],
      [{ data: { system: { cpu_percent: NaN } } }, undefined], [{ data: { system: { cpu_percent: -1 } } }, undefined],
      [{ data: { system: { cpu_percent: Infinity } } }, undefined], [{ data: { system: { load_1m: 2, cpus: 0 } } }, 2],
      [{ data: { system: { cpu_percent: 1e308 } } }, MAX_LOAD], [{ data: { self: { cpu_percent: Number.MAX_VALUE } } }, MAX_LOAD],
    ];
    for (const [input, want] of cases) assert.equal(loadScore(input), want, JSON.stringify(input));
  });

  it('never throws on hostile objects', () => {
    const trap = new Proxy({}, { get: () => { throw new Error('boom'); } });
    assert.equal(loadScore(trap), undefined);
    assert.equal(loadScore({ data: { get system(): unknown { throw new Error('boom'); } } }), undefined);
  });

  it('fuzz: random summaries give undefined or a score in [0, MAX_LOAD], and placement never throws', () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9);
    const r = seededRandom(seed);
    const keys = ['data', 'self', 'system', 'cpu_percent', 'load_1m', 'cpus', 'cpus_online', 'ok', '__proto__', 'x'];
    const leaves = [0, -0, 1, -1, 0.5, 1e308, -1e308, NaN, Infinity, -Infinity, Number.MIN_VALUE, 2 ** 53, '0.5', '', true, null, undefined];
    const gen = (depth: number): unknown => {
      const k = r();
      if (depth > 6 || k < 0.35) return leaves[Math.floor(r() * leaves.length)];
      if (k < 0.45) return Array.from({ length: Math.floor(r() * 3) }, () => gen(depth + 1));
      const obj: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 4); i >= 0; i--) obj[keys[Math.floor(r() * keys.length)]!] = gen(depth + 1);
      return obj;
    };
    let deep: unknown = { cpu_percent: 0.5 };
    for (let i = 0; i < 10_000; i++) deep = { data: deep, system: deep };
    assert.equal(loadScore(deep), undefined, 'deep nesting is read only at the fixed paths');
    for (let i = 0; i < 5_000; i++) {
      const s = gen(0);
      const score = loadScore(s);
      assert.ok(score === undefined || (Number.isFinite(score) && score >= 0 && score <= MAX_LOAD), `seed ${seed} (FUZZ_SEED=${seed}): ${String(score)}`);
      const cands = Array.from({ length: 1 + Math.floor(r() * 4) }, (_, k) => ({ id: `o${k}`, streams: Math.floor(r() * 3), load: loadScore(gen(0)) }));
      for (const strategy of ['random', 'least-streams', 'least-load'] as const) {
        const c = place(cands, strategy, r);
        assert.ok(c !== undefined && cands.includes(c), `seed ${seed} (FUZZ_SEED=${seed}): ${strategy}`);
      }
    }
  });
});
