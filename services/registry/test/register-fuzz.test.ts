import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Balancer } from '@srs-proxy/balancer';
import { SRS7_UPSTREAM_EXAMPLE, http, startTestRegistry, stateOf } from './support.ts';
import { seededRandom as prng } from '../../../test/support/random.ts';

/** Bounded: 10,000 sequential requests on keep-alive take a few seconds on this machine. */
const ITERATIONS = 10_000;
/** A full state snapshot is compared around every Nth 4xx (the update spy checks all of them). */
const SNAPSHOT_EVERY = 25;
const SEED = Number(process.env.SRSP_FUZZ_SEED ?? 0x5eed);


const rnd = prng(SEED);
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

const WEIRD_STRINGS = [
  '', ' ', '0', '-1', '65536', '99999', '1935', ':1935', 'tcp://:1935', 'udp://[::]:8000', 'tcp://[::1', '[::1]:', 'http://x:1',
  'a'.repeat(300), '\u0000', '\n', '\u202e', '💥', '%00', '../../etc/passwd', '{"a":1}', 'null', 'tcp://0.0.0.0:0', '0.0.0.0:',
  '__proto__', 'constructor', '1'.repeat(20),
];

function randomValue(depth = 0): unknown {
  switch (int(depth > 3 ? 6 : 9)) {
    case 0: return null;
    case 1: return rnd() < 0.5;
    case 2: return pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, 1935]);
    case 3: return pick(WEIRD_STRINGS);
    case 4: return String.fromCharCode(...Array.from({ length: int(20) }, () => int(0x3000)));
    case 5: return [];
    case 6: return Array.from({ length: int(5) }, () => randomValue(depth + 1));
    case 7: return Object.fromEntries(Array.from({ length: int(5) }, () => [pick(['ip', 'rtmp', 'x', '__proto__', 'summaries', 'pid']), randomValue(depth + 1)]));
    default: return Array.from({ length: int(4) }, () => pick(WEIRD_STRINGS));
  }
}

const FIELDS = ['ip', 'server', 'service', 'pid', 'device_id', 'rtmp', 'http', 'api', 'srt', 'rtc', 'summaries'];

/** One body: structured mutations of a real heartbeat, text-level corruption, or noise. */
function makeBody(): string | Buffer {
  const good = JSON.parse(SRS7_UPSTREAM_EXAMPLE) as Record<string, unknown>;
  switch (int(8)) {
    case 0: { // replace fields with random values
      for (let i = 0, n = 1 + int(3); i < n; i++) good[pick(FIELDS)] = randomValue();
      return JSON.stringify(good);
    }
    case 1: { // drop fields
      for (let i = 0, n = 1 + int(3); i < n; i++) delete good[pick(FIELDS)];
      return JSON.stringify(good);
    }
    case 2: { // byte-level corruption of the text
      const b = Buffer.from(SRS7_UPSTREAM_EXAMPLE);
      for (let i = 0, n = 1 + int(6); i < n; i++) b[int(b.length)] = int(256);
      return b;
    }
    case 3: { // truncation or garbage appended
      const s = SRS7_UPSTREAM_EXAMPLE;
      return rnd() < 0.5 ? s.slice(0, int(s.length)) : s + pick(['}', ']', ',', '\u0000', 'x', '{}', ' ']);
    }
    case 4: // random bytes
      return Buffer.from(Array.from({ length: int(400) }, () => int(256)));
    case 5: // random JSON value as the whole body
      return JSON.stringify(randomValue()) ?? '';
    case 6: { // deep nesting and long arrays
      const depth = 1 + int(5000);
      return rnd() < 0.5 ? '['.repeat(depth) + ']'.repeat(depth) : JSON.stringify({ ...good, rtmp: Array.from({ length: int(100) }, () => String(1 + int(65535))) });
    }
    default: { // plausible but wrong endpoint strings in every list
      for (const k of ['rtmp', 'http', 'api', 'srt', 'rtc']) if (rnd() < 0.5) good[k] = [pick(WEIRD_STRINGS)];
      if (rnd() < 0.3) good.pid = String(int(50)); // valid variants land on a few ids
      return JSON.stringify(good);
    }
  }
}

/** Counts balancer writes, so every rejected request is checked to have written nothing. */
function spyUpdates(balancer: Balancer): { count(): number } {
  let n = 0;
  const original = balancer.update.bind(balancer);
  balancer.update = async (o) => {
    n++;
    return original(o);
  };
  return { count: () => n };
}

test(`${ITERATIONS} random and mutated register bodies: only 2xx/4xx, alive, 4xx change nothing (seed ${SEED})`, async (t) => {
  const r = await startTestRegistry();
  t.after(() => r.close());
  const updates = spyUpdates(r.balancer);
  const statuses = new Map<number, number>();
  let snapshotsCompared = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const body = makeBody();
    const contentType = pick(['application/json', 'text/plain', 'application/x-www-form-urlencoded', undefined, 'application/octet-stream']);
    const method = pick(['POST', 'POST', 'POST', 'PUT', 'PATCH']);
    const takeSnapshot = i % SNAPSHOT_EVERY === 0;
    const before = takeSnapshot ? await stateOf(r.balancer) : '';
    const writesBefore = updates.count();
    const res = await http(r.port, { method, path: '/api/v1/srs/register', headers: contentType ? { 'content-type': contentType } : {}, body });
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const ok2xx = res.status >= 200 && res.status < 300;
    const ok4xx = res.status >= 400 && res.status < 500;
    assert.ok(ok2xx || ok4xx, `iteration ${i}: status ${res.status} for body ${JSON.stringify(body.toString().slice(0, 200))}: ${res.body}`);
    if (ok4xx) {
      assert.equal(updates.count(), writesBefore, `iteration ${i}: a rejected body reached the balancer`);
      const j = res.json();
      assert.equal(j.code, res.status);
      assert.equal(typeof j.error, 'string');
      if (takeSnapshot) {
        assert.equal(await stateOf(r.balancer), before, `iteration ${i}: state changed on ${res.status}`);
        snapshotsCompared++;
      }
    } else {
      assert.deepEqual(res.json(), { code: 0, pid: String(process.pid) });
    }
  }
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}, snapshots compared: ${snapshotsCompared}`);
  // The generator must exercise both outcomes, or this test proves little.
  assert.ok((statuses.get(400) ?? 0) > ITERATIONS / 2);
  assert.ok((statuses.get(200) ?? 0) > 50);

  // Still serving, and still accepting a good heartbeat.
  assert.equal((await http(r.port, { method: 'GET', path: '/api/v1/versions' })).status, 200);
  assert.equal((await http(r.port, { path: '/api/v1/srs/register', body: SRS7_UPSTREAM_EXAMPLE })).status, 200);
});
