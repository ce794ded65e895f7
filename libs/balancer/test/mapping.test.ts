import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mappingVerdict, parseRegisterBody, type OriginRecord } from '../src/index.ts';

const NOW = 1_000_000_000;
const TTL = 300_000;
const o = (n: number, ageMs: number, extra: Record<string, unknown> = {}): OriginRecord =>
  parseRegisterBody({ ip: '10.0.0.1', server: `s${n}`, service: 'v', pid: String(n), rtmp: ['1935'], ...extra }, NOW - ageMs);

describe('mappingVerdict', () => {
  const ctx = { now: NOW, originTtlMs: TTL, failedForStream: false };
  it('keeps a healthy mapping', () => assert.equal(mappingVerdict(o(1, 0), ctx), 'keep'));
  it('keeps a healthy mapping whatever load the origin reports (placement never moves a stream for load)', () => {
    assert.equal(mappingVerdict(o(1, 0, { summaries: { data: { system: { cpu_percent: 1, load_1m: 64, cpus: 1 } } } }), ctx), 'keep');
  });
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
