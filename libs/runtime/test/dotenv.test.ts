import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDotEnv } from '../src/index.ts';

test('.env grammar and precedence match the Go proxy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'srsp-env-'));
  try {
    writeFileSync(
      join(dir, '.env'),
      ['# comment', '  # indented comment', 'PROXY_RTMP_SERVER = 1936 ', 'PROXY_HTTP_SERVER=18081', 'QUOTED="abc"', '=nokey', 'noequals', 'EMPTY_IN_ENV=fromfile', 'A=b=c\r', ''].join('\n'),
    );
    const env: NodeJS.ProcessEnv = { PROXY_HTTP_SERVER: '9999', EMPTY_IN_ENV: '' };
    assert.equal(loadDotEnv(dir, env), 4);
    assert.equal(env.PROXY_RTMP_SERVER, '1936');
    assert.equal(env.PROXY_HTTP_SERVER, '9999', 'non-empty process env wins');
    assert.equal(env.QUOTED, '"abc"', 'no quote stripping');
    assert.equal(env.EMPTY_IN_ENV, 'fromfile', 'empty process value is replaced');
    assert.equal(env.A, 'b=c', 'first = splits');
    assert.equal(env.noequals, undefined);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('a missing .env changes nothing', () => {
  const env: NodeJS.ProcessEnv = {};
  assert.equal(loadDotEnv(join(tmpdir(), 'definitely-missing-dir-srsp'), env), -1);
  assert.deepEqual(env, {});
});
