import test from 'node:test';
import assert from 'node:assert/strict';
import { readConfig, ConfigError } from '@srs-proxy/runtime';
import { rtcEdgeSchema } from '../src/index.ts';

test('defaults keep the Go proxy ports; new settings have documented defaults', () => {
  const c = readConfig(rtcEdgeSchema, {});
  assert.deepEqual(c.apiListen, { host: undefined, port: 11985 });
  assert.deepEqual(c.listen, { host: undefined, port: 18000 });
  assert.equal(c.candidate, undefined);
  assert.equal(c.idleTimeout, 30_000);
  assert.equal(c.maxSessions, 10_000);
  assert.equal(c.maxSessionsPerIp, 100);
});

test('PROXY_RTC_CANDIDATE must be an IP address; bad values name the variable', () => {
  assert.equal(readConfig(rtcEdgeSchema, { PROXY_RTC_CANDIDATE: ' 203.0.113.5 ' }).candidate, '203.0.113.5');
  assert.equal(readConfig(rtcEdgeSchema, { PROXY_RTC_CANDIDATE: '2001:db8::1' }).candidate, '2001:db8::1');
  assert.throws(() => readConfig(rtcEdgeSchema, { PROXY_RTC_CANDIDATE: 'proxy.example.com' }), (e: unknown) => e instanceof ConfigError && e.variable === 'PROXY_RTC_CANDIDATE');
  assert.throws(() => readConfig(rtcEdgeSchema, { PROXY_RTC_IDLE_TIMEOUT: 'soon' }), /PROXY_RTC_IDLE_TIMEOUT/);
  assert.throws(() => readConfig(rtcEdgeSchema, { PROXY_RTC_MAX_SESSIONS_PER_IP: '0' }), /PROXY_RTC_MAX_SESSIONS_PER_IP/);
  assert.throws(() => readConfig(rtcEdgeSchema, { PROXY_WEBRTC_SERVER: 'udp://:8000' }), /PROXY_WEBRTC_SERVER/);
});
