import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDuration, requireDuration, ConfigError } from '../src/index.ts';

test('Go durations parse to milliseconds', () => {
  const cases: [string, number | undefined][] = [
    ['20s', 20_000], ['30s', 30_000], ['1m30s', 90_000], ['500ms', 500], ['1.5h', 5_400_000], ['0', 0],
    ['100us', 0.1], ['2h45m', 9_900_000], ['-1s', -1000], ['.5s', 500],
    ['', undefined], ['20', undefined], ['s', undefined], ['1x', undefined], ['1s2', undefined], ['abc', undefined], ['1 s', undefined],
  ];
  for (const [text, want] of cases) assert.equal(parseGoDuration(text), want, text);
});

test('invalid duration names the variable with the Go wording', () => {
  assert.throws(() => requireDuration('PROXY_GRACE_QUIT_TIMEOUT', '20'), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.variable, 'PROXY_GRACE_QUIT_TIMEOUT');
    assert.match(err.message, /PROXY_GRACE_QUIT_TIMEOUT: time: invalid duration "20"/);
    return true;
  });
  assert.throws(() => requireDuration('X', '-5s'), ConfigError);
});
