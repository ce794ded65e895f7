import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '@srs-proxy/balancer';
import { OriginProber, type ProbeFn } from '../src/index.ts';

const EP = { host: '127.0.0.1', port: 1935 } as Endpoint;

/** A probe function whose calls are answered by hand. */
function manualProbe() {
  const calls: Array<{ endpoint: Endpoint; signal: AbortSignal; answer(): void; fail(err: Error): void }> = [];
  const probe: ProbeFn = (endpoint, signal) =>
    new Promise<void>((resolve, reject) => calls.push({ endpoint, signal, answer: resolve, fail: reject }));
  return { probe, calls };
}

test('sessions asking about one origin share one probe while it runs and for reuseMs after it', async () => {
  let now = 0;
  const m = manualProbe();
  const prober = new OriginProber({ probe: m.probe, timeoutMs: 60_000, reuseMs: 2_000, now: () => now });
  const a = prober.check('o1', EP);
  const b = prober.check('o1', EP);
  assert.equal(m.calls.length, 1);
  m.calls[0]!.answer();
  assert.deepEqual(await a, { alive: true });
  assert.deepEqual(await b, { alive: true });
  assert.equal(m.calls[0]!.signal.aborted, true, 'the probe is told to release its socket');
  now += 1_999;
  assert.deepEqual(await prober.check('o1', EP), { alive: true });
  assert.equal(m.calls.length, 1, 'reused within reuseMs');
  now += 1;
  const c = prober.check('o1', EP);
  assert.equal(m.calls.length, 2, 'asked again once the answer is reuseMs old');
  m.calls[1]!.fail(new Error('ECONNREFUSED'));
  const r = await c;
  assert.equal(r.alive, false);
  assert.match(r.reason!, /ECONNREFUSED/);
  prober.check('o2', EP);
  assert.equal(m.calls.length, 3, 'another origin has its own probe');
});

test('an origin that does not answer within timeoutMs is dead, and the probe is aborted', async () => {
  const m = manualProbe();
  const prober = new OriginProber({ probe: m.probe, timeoutMs: 20, reuseMs: 1_000 });
  const r = await prober.check('o1', EP);
  assert.equal(r.alive, false);
  assert.match(r.reason!, /within 20 ms/);
  assert.equal(m.calls[0]!.signal.aborted, true);
});
