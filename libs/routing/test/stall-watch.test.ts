import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StallWatch, type RelaySample, type StallVerdict } from '../src/index.ts';

/** A watch on a hand-moved clock and the verdicts of checks every `tickMs` while `sample` holds. */
function harness(opts: { stallMs?: number; expectsMedia?: boolean; probes?: boolean } = {}) {
  let now = 10_000;
  const watch = new StallWatch({ stallMs: opts.stallMs ?? 5_000, expectsMedia: opts.expectsMedia ?? false, probes: opts.probes ?? false, now: () => now });
  return {
    watch,
    /** Checks every tickMs for `forMs`; returns [elapsed, verdict] of each non-empty verdict. */
    run(sample: () => RelaySample, forMs: number, tickMs = 1_000): Array<[number, StallVerdict]> {
      const out: Array<[number, StallVerdict]> = [];
      for (let t = 0; t <= forMs; t += tickMs) {
        const v = watch.check(sample());
        if (v !== undefined) out.push([t, v]);
        now += tickMs;
      }
      return out;
    },
  };
}

test('a player whose origin had sent media and then went silent: silent after the bound, re-armed', () => {
  const h = harness({ expectsMedia: true });
  let received = 0;
  assert.deepEqual(h.run(() => ({ received: (received += 1_000), backlog: 0 }), 20_000), [], 'media flowing: nothing');
  const verdicts = h.run(() => ({ received, backlog: 0 }), 12_000);
  // The last byte was seen one tick before the silence began: the bound passes at 4 s, then 5 s later again.
  assert.deepEqual(verdicts, [[4_000, 'silent'], [9_000, 'silent']]);
});

test('silence while the relay holds the origin back (slow client) does not count', () => {
  const h = harness({ expectsMedia: true });
  let received = 0;
  h.run(() => ({ received: (received += 1_000), backlog: 0 }), 3_000);
  assert.deepEqual(h.run(() => ({ received, backlog: 0, held: true }), 30_000), []);
  // Released and still silent: the bound counts from the last held check (one tick before).
  assert.deepEqual(h.run(() => ({ received, backlog: 0 }), 6_000), [[4_000, 'silent']]);
});

test('silentMs: how long the checks have seen the origin silent', () => {
  const h = harness({ expectsMedia: true });
  assert.equal(h.watch.silentMs(0), 0, 'nothing flowed yet');
  h.run(() => ({ received: 5, backlog: 0 }), 0);
  h.run(() => ({ received: 9, backlog: 0 }), 0);
  assert.equal(h.watch.silentMs(9), 1_000, 'one tick since the last byte was seen');
  h.run(() => ({ received: 9, backlog: 0 }), 2_000);
  assert.equal(h.watch.silentMs(9), 4_000);
  assert.equal(h.watch.silentMs(10), 0, 'moved since the last check');
});

test('a play that never received media after set-up is left to the idle timeout', () => {
  const h = harness({ expectsMedia: true });
  assert.deepEqual(h.run(() => ({ received: 0, backlog: 0 }), 60_000), []);
});

test('an origin that always sends (SRT keepalives): silence counts from the start', () => {
  const h = harness({ expectsMedia: true });
  let t = 0;
  const always = new StallWatch({ stallMs: 5_000, expectsMedia: true, probes: false, sendsAlways: true, now: () => t });
  const verdicts: Array<[number, string]> = [];
  for (; t <= 6_000; t += 1_000) {
    const v = always.check({ received: 3, backlog: 0 });
    if (v !== undefined) verdicts.push([t, v]);
  }
  assert.deepEqual(verdicts, [[5_000, 'silent']]);
  assert.deepEqual(h.run(() => ({ received: 3, backlog: 0 }), 6_000), [], 'without it, silence before any byte is left alone');
});

test('a sender (publisher) is never judged by silence', () => {
  const h = harness({ expectsMedia: false });
  let received = 0;
  h.run(() => ({ received: (received += 10), backlog: 0 }), 3_000);
  assert.deepEqual(h.run(() => ({ received, backlog: 0 }), 60_000), []);
});

test('writes waiting for drain for the whole bound: not-reading', () => {
  const h = harness();
  assert.deepEqual(h.run(() => ({ received: 0, backlog: 1 }), 6_000)[0], [5_000, 'not-reading']);
});

test('a backlog that drains and builds again is a new wait: slow but reading is not a stall', () => {
  const h = harness();
  let wait = 0;
  // A new wait every 3 s (the previous one drained): never 5 s on one wait.
  const verdicts = h.run(() => ({ received: 0, backlog: Math.floor((wait += 1_000) / 3_000) + 1 }), 30_000);
  assert.deepEqual(verdicts, []);
  const h2 = harness();
  let t = 0;
  // Drained in between (backlog 0), then waiting again on the same number: the clock restarts.
  const alternating = h2.run(() => ({ received: 0, backlog: (t += 1_000) % 4_000 === 0 ? 0 : 7 }), 30_000);
  assert.deepEqual(alternating, []);
});

test('a publisher with probes on: one probe due per bound, whatever flows', () => {
  const h = harness({ probes: true });
  let sent = 0;
  const verdicts = h.run(() => ({ received: (sent += 0), backlog: 0 }), 15_000);
  assert.deepEqual(verdicts, [[5_000, 'probe'], [10_000, 'probe'], [15_000, 'probe']]);
});

test('the bound comes from the options', () => {
  assert.throws(() => new StallWatch({ stallMs: 0, expectsMedia: true, probes: false }), RangeError);
  const h = harness({ stallMs: 2_000, expectsMedia: true });
  h.run(() => ({ received: 1, backlog: 0 }), 0);
  assert.deepEqual(h.run(() => ({ received: 2, backlog: 0 }), 3_000, 500), [[2_000, 'silent']]);
});
