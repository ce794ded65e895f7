import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, RateLimitedLog } from '../src/index.ts';

test('a flood of warnings is cut to a bounded number of lines plus one summary', () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  let now = 0;
  const rl = new RateLimitedLog(createLogger({ service: 't', destination: sink }), 5, 1000, () => now);
  for (let i = 0; i < 10_000; i++) rl.warn({ i }, 'unknown ufrag');
  now = 1500;
  rl.warn({}, 'next window');
  assert.equal(lines.length, 5 + 1 + 1);
  assert.match(lines[5]!, /9995 similar messages suppressed/);
});
