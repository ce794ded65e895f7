import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readConfig, describeConfig, commonSchema, f, parseListen, ConfigError } from '../src/index.ts';

test('defaults apply when unset or empty (upstream "set if empty")', () => {
  const c = readConfig(commonSchema, { PROXY_REDIS_PORT: '' });
  assert.equal(c.loadBalancerType, 'memory');
  assert.equal(c.loadBalanceStrategy, 'least-streams');
  assert.equal(c.redisPort, 6379);
  assert.equal(c.originServerTtl, 300_000);
  assert.equal(c.graceQuitTimeout, 20_000);
  assert.equal(c.forceQuitTimeout, 30_000);
  assert.equal(c.natsUrl, undefined);
  assert.deepEqual(c.opsServer, { host: undefined, port: 12026 });
});

test('invalid values stop with a message naming the variable', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ PROXY_LOAD_BALANCER_TYPE: 'mysql' }, /PROXY_LOAD_BALANCER_TYPE: invalid value "mysql"/],
    [{ PROXY_LOAD_BALANCE_STRATEGY: 'round-robin' }, /PROXY_LOAD_BALANCE_STRATEGY: invalid value "round-robin"/],
    [{ PROXY_REDIS_DB: 'one' }, /PROXY_REDIS_DB: "one" is not an integer/],
    [{ PROXY_REDIS_PORT: '70000' }, /PROXY_REDIS_PORT/],
    [{ PROXY_ORIGIN_SERVER_TTL: '30' }, /PROXY_ORIGIN_SERVER_TTL: time: invalid duration/],
    [{ PROXY_NATS_URL: 'localhost:4222' }, /PROXY_NATS_URL/],
    [{ PROXY_OPS_SERVER: 'abc' }, /PROXY_OPS_SERVER: invalid port/],
    [{ PROXY_LOG_LEVEL: 'loud' }, /PROXY_LOG_LEVEL/],
  ];
  for (const [env, re] of bad) {
    assert.throws(() => readConfig(commonSchema, env), (err: unknown) => err instanceof ConfigError && re.test(err.message), JSON.stringify(env));
  }
});

test('secrets are masked in the effective-configuration echo', () => {
  const d = describeConfig(commonSchema, { PROXY_REDIS_PASSWORD: 'hunter2', PROXY_NATS_TOKEN: 't0k' });
  assert.equal(d.PROXY_REDIS_PASSWORD, '******');
  assert.equal(d.PROXY_NATS_TOKEN, '******');
  assert.ok(!JSON.stringify(d).includes('hunter2'));
});

test('listen addresses: bare port, host:port, [v6]:port', () => {
  assert.deepEqual(parseListen('X', '11935'), { host: undefined, port: 11935 });
  assert.deepEqual(parseListen('X', '127.0.0.1:1935'), { host: '127.0.0.1', port: 1935 });
  assert.deepEqual(parseListen('X', ':1935'), { host: undefined, port: 1935 });
  assert.deepEqual(parseListen('X', '[::1]:1935'), { host: '::1', port: 1935 });
  for (const bad of ['', 'abc', '1:2:3', '99999', '[::1]1935']) assert.throws(() => parseListen('X', bad), ConfigError, bad);
});

test('on/off switches accept upstream `on` and reject junk', () => {
  const s = { x: f.onOff('X', 'off', 'doc') };
  assert.equal(readConfig(s, {}).x, false);
  assert.equal(readConfig(s, { X: 'on' }).x, true);
  assert.throws(() => readConfig(s, { X: 'maybe' }), /X: "maybe" must be on or off/);
});
