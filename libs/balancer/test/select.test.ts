import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { selectOrigin, isAlive, mappingVerdict, parseRegisterBody, type OriginRecord } from '../src/index.ts';

const NOW = 1_000_000_000;
const TTL = 300_000;
const o = (n: number, ageMs: number, extra: Record<string, unknown> = {}): OriginRecord =>
  parseRegisterBody({ ip: '10.0.0.1', server: `s${n}`, service: 'v', pid: String(n), rtmp: ['1935'], ...extra }, NOW - ageMs);
const ids = (list: Array<OriginRecord | undefined>) => list.map((x) => x?.id);
/** Runs selection once per random value in [0, 1) steps, to see the whole candidate pool. */
function pool(input: Omit<Parameters<typeof selectOrigin>[0], 'random'>, steps = 20): Set<string | undefined> {
  return new Set(ids(Array.from({ length: steps }, (_, i) => selectOrigin({ ...input, random: () => i / steps }))));
}

describe('isAlive', () => {
  it('is alive strictly within the TTL', () => {
    assert.equal(isAlive(o(1, 0), NOW, TTL), true);
    assert.equal(isAlive(o(1, TTL - 1), NOW, TTL), true);
    assert.equal(isAlive(o(1, TTL), NOW, TTL), false);
  });
});

describe('selectOrigin', () => {
  const base = { now: NOW, originTtlMs: TTL };

  it('returns undefined without candidates', () => {
    assert.equal(selectOrigin({ ...base, candidates: [], random: () => 0 }), undefined);
  });

  it('chooses uniformly among alive origins', () => {
    const c = [o(1, 0), o(2, 1000), o(3, 2000)];
    assert.deepEqual(ids([0, 0.34, 0.67, 0.9999999].map((r) => selectOrigin({ ...base, candidates: c, random: () => r }))), ['s1-v-1', 's2-v-2', 's3-v-3', 's3-v-3']);
    // random() === 1 must not index past the end.
    assert.equal(selectOrigin({ ...base, candidates: c, random: () => 1 })?.id, 's3-v-3');
  });

  it('never chooses an expired origin (no upstream fallback to dead ones)', () => {
    assert.deepEqual(pool({ ...base, candidates: [o(1, TTL), o(2, 0)] }), new Set(['s2-v-2']));
    assert.equal(selectOrigin({ ...base, candidates: [o(1, TTL)], random: () => 0 }), undefined);
  });

  it('filters by protocol', () => {
    const c = [o(1, 0), o(2, 0, { srt: ['10080'] }), o(3, 0, { http: ['8080'] })];
    assert.deepEqual(pool({ ...base, candidates: c, protocol: 'srt' }), new Set(['s2-v-2']));
    assert.deepEqual(pool({ ...base, candidates: c, protocol: 'http' }), new Set(['s3-v-3']));
    assert.deepEqual(pool({ ...base, candidates: c, protocol: 'rtmp' }), new Set(['s1-v-1', 's2-v-2', 's3-v-3']));
    assert.equal(selectOrigin({ ...base, candidates: c, protocol: 'rtc', random: () => 0 }), undefined);
  });

  it('never chooses avoided origins', () => {
    const c = [o(1, 0), o(2, 0)];
    assert.deepEqual(pool({ ...base, candidates: c, avoid: ['s1-v-1'] }), new Set(['s2-v-2']));
    assert.equal(selectOrigin({ ...base, candidates: c, avoid: ['s1-v-1', 's2-v-2'], random: () => 0 }), undefined);
  });

  it('uses penalised origins only when nothing else qualifies', () => {
    const c = [o(1, 0), o(2, 0)];
    const penalties = new Map([['s1-v-1', NOW + 1]]);
    assert.deepEqual(pool({ ...base, candidates: c, penalties }), new Set(['s2-v-2']));
    assert.deepEqual(pool({ ...base, candidates: [o(1, 0)], penalties }), new Set(['s1-v-1']));
    // An elapsed penalty no longer counts.
    assert.deepEqual(pool({ ...base, candidates: c, penalties: new Map([['s1-v-1', NOW]]) }), new Set(['s1-v-1', 's2-v-2']));
  });
});

describe('mappingVerdict', () => {
  const ctx = { now: NOW, originTtlMs: TTL, failedForStream: false };
  it('keeps a healthy mapping', () => assert.equal(mappingVerdict(o(1, 0), ctx), 'keep'));
  it('replaces a missing origin', () => assert.equal(mappingVerdict(undefined, ctx), 'replace'));
  it('replaces an expired origin', () => assert.equal(mappingVerdict(o(1, TTL), ctx), 'replace'));
  it('replaces an origin that failed for this stream', () => assert.equal(mappingVerdict(o(1, 0), { ...ctx, failedForStream: true }), 'replace'));
  it('replaces an avoided origin', () => assert.equal(mappingVerdict(o(1, 0), { ...ctx, avoid: ['s1-v-1'] }), 'replace'));
  it('refuses rather than moves when a live origin lacks the protocol', () => {
    assert.equal(mappingVerdict(o(1, 0), { ...ctx, protocol: 'srt' }), 'no-protocol');
    assert.equal(mappingVerdict(o(1, 0, { srt: ['10080'] }), { ...ctx, protocol: 'srt' }), 'keep');
  });
  it('a dead origin is replaced even when it lacks the protocol', () => assert.equal(mappingVerdict(o(1, TTL), { ...ctx, protocol: 'srt' }), 'replace'));
});
