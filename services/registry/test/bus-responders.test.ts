import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusRegistryClient, RegistryUnavailableError, RemoteError, subjects, MESSAGE_VERSION, type OriginExpiredEvent, type StreamPickedEvent } from '@srs-proxy/bus';
import { errorCode } from '@srs-proxy/runtime';
import { SRS7_UPSTREAM_EXAMPLE, http, metricValue, startTestRegistry } from './support.ts';
import { waitFor } from '../../../test/support/index.ts';

const ORIGIN_ID = 'vid-12r842t-z4771793-5873';
const TTL_MS = 30_000;

test('picks over the bus: no origin, fresh then sticky, events and metrics', async (t) => {
  const r = await startTestRegistry();
  t.after(() => r.close());
  const client = new BusRegistryClient(r.bus, 1000);
  const picked: StreamPickedEvent[] = [];
  r.bus.subscribe(subjects.streamPicked, (e) => picked.push(e as StreamPickedEvent));

  await assert.rejects(client.pick('__defaultVhost__/live/s'), (err: unknown) => err instanceof RemoteError && err.code === 'SRSP_ERR_NO_ORIGIN');
  assert.equal(await metricValue(r.metrics, 'srsp_registry_picks_total', { result: 'no_origin' }), 1);

  assert.equal((await http(r.port, { path: '/api/v1/srs/register', body: SRS7_UPSTREAM_EXAMPLE })).status, 200);
  const first = await client.pick('__defaultVhost__/live/s', { protocol: 'rtmp' });
  assert.deepEqual([first.origin.id, first.fresh], [ORIGIN_ID, true]);
  const again = await client.pick('__defaultVhost__/live/s');
  assert.deepEqual([again.origin.id, again.fresh], [ORIGIN_ID, false]);
  // This origin has no WebRTC endpoint: a first pick for rtc finds nothing.
  await assert.rejects(client.pick('__defaultVhost__/live/rtc-only', { protocol: 'rtc' }), (err: unknown) => errorCode(err) === 'SRSP_ERR_NO_ORIGIN');

  await waitFor(() => picked.length === 1, { timeoutMs: 1000, what: 'stream picked event' });
  assert.equal(picked[0]!.stream_url, '__defaultVhost__/live/s');
  assert.equal(picked[0]!.origin_id, ORIGIN_ID);
  assert.equal(await metricValue(r.metrics, 'srsp_registry_picks_total', { result: 'fresh' }), 1);
  assert.equal(await metricValue(r.metrics, 'srsp_registry_picks_total', { result: 'sticky' }), 1);
  assert.equal(await metricValue(r.metrics, 'srsp_registry_registrations_total', { result: 'new' }), 1);
  assert.equal(await metricValue(r.metrics, 'srsp_registry_origins_alive'), 1);

  assert.deepEqual((await client.listOrigins()).map((o) => o.origin.id), [ORIGIN_ID]);
  assert.deepEqual((await client.listStreams(10)).map(({ stream_url, origin_id, protocol }) => ({ stream_url, origin_id, protocol })), [{ stream_url: '__defaultVhost__/live/s', origin_id: ORIGIN_ID, protocol: 'rtmp' }]);
});

test('bad bus messages are typed BAD_MESSAGE errors and change nothing', async (t) => {
  const r = await startTestRegistry();
  t.after(() => r.close());
  assert.equal((await http(r.port, { path: '/api/v1/srs/register', body: SRS7_UPSTREAM_EXAMPLE })).status, 200);
  const bad: Array<[string, unknown]> = [
    [subjects.pick, null],
    [subjects.pick, 'x'],
    [subjects.pick, { stream_url: 'x' }],
    [subjects.pick, { v: 2, stream_url: 'x' }],
    [subjects.pick, { v: MESSAGE_VERSION }],
    [subjects.pick, { v: MESSAGE_VERSION, stream_url: 'x'.repeat(5000) }],
    [subjects.pick, { v: MESSAGE_VERSION, stream_url: 'x', protocol: 'ftp' }],
    [subjects.pick, { v: MESSAGE_VERSION, stream_url: 'x', avoid: 'o1' }],
    [subjects.pick, { v: MESSAGE_VERSION, stream_url: 'x', avoid: Array.from({ length: 100 }, (_, i) => `o${i}`) }],
    [subjects.reportFailure, { v: MESSAGE_VERSION, stream_url: 'x' }],
    [subjects.reportFailure, { v: MESSAGE_VERSION, origin_id: ORIGIN_ID, stream_url: 'x', reason: 42 }],
    [subjects.hlsLoadOrStore, { v: MESSAGE_VERSION, stream_url: 'x' }],
    [subjects.hlsLoad, { v: MESSAGE_VERSION, spbhid: 7 }],
    [subjects.rtcStore, { v: MESSAGE_VERSION, session: { ufrag: 'a:b', stream_url: 'x', origin_id: ORIGIN_ID, rtc_host: '1.2.3.4', rtc_port: 70000 } }],
    [subjects.rtcStore, { v: MESSAGE_VERSION, session: [] }],
    [subjects.rtcLoad, { v: MESSAGE_VERSION }],
    [subjects.listOrigins, { v: 0 }],
    [subjects.listStreams, { v: MESSAGE_VERSION, limit: 0 }],
    [subjects.listStreams, { v: MESSAGE_VERSION, limit: 1.5 }],
  ];
  for (const [subject, data] of bad) {
    await assert.rejects(r.bus.request(subject, data, { timeoutMs: 1000 }), (err: unknown) => {
      assert.equal(errorCode(err), 'SRSP_ERR_BAD_MESSAGE', `${subject} ${JSON.stringify(data)?.slice(0, 80)}`);
      return true;
    });
  }
  assert.deepEqual(await r.balancer.listStreams(10), []);
  assert.equal(await metricValue(r.metrics, 'srsp_registry_picks_total', { result: 'bad_request' }), 9);
});

test('HLS and WebRTC sessions round-trip through the bus', async (t) => {
  const r = await startTestRegistry();
  t.after(() => r.close());
  const client = new BusRegistryClient(r.bus, 1000);
  const hls = await client.hlsLoadOrStore('__defaultVhost__/live/h', 'http://127.0.0.1:18080/live/h.m3u8');
  assert.match(hls.spbhid, /^[0-9a-f]{7}$/);
  assert.deepEqual({ ...hls, spbhid: 'x' }, { v: 1, spbhid: 'x', stream_url: '__defaultVhost__/live/h', full_url: 'http://127.0.0.1:18080/live/h.m3u8' });
  assert.deepEqual(await client.hlsLoad(hls.spbhid), hls);
  assert.equal(await client.hlsLoad('0000000'), undefined);

  const session = { v: 1, ufrag: 'ans1:off1', stream_url: '__defaultVhost__/live/w', origin_id: ORIGIN_ID, rtc_host: '192.0.2.2', rtc_port: 8000 };
  await client.rtcStore(session);
  assert.deepEqual(await client.rtcLoad('ans1:off1'), session);
  assert.equal(await client.rtcLoad('nope:nope'), undefined);
});

test('reported failures move the stream; expired origins publish an event and leave the gauge', async (t) => {
  let now = 1_700_000_000_000;
  const r = await startTestRegistry({ now: () => now, originTtlMs: TTL_MS, timers: { sweepIntervalMs: 20 } });
  t.after(() => r.close());
  const client = new BusRegistryClient(r.bus, 1000);
  const expired: OriginExpiredEvent[] = [];
  r.bus.subscribe(subjects.originExpired, (e) => expired.push(e as OriginExpiredEvent));
  const other = JSON.stringify({ ...JSON.parse(SRS7_UPSTREAM_EXAMPLE), server: 'vid-other', ip: '192.0.2.3' });
  assert.equal((await http(r.port, { path: '/api/v1/srs/register', body: SRS7_UPSTREAM_EXAMPLE })).status, 200);
  assert.equal((await http(r.port, { path: '/api/v1/srs/register', body: other })).status, 200);

  const first = await client.pick('__defaultVhost__/live/f');
  await client.reportFailure(first.origin.id, '__defaultVhost__/live/f', 'ECONNREFUSED');
  const second = await client.pick('__defaultVhost__/live/f');
  assert.notEqual(second.origin.id, first.origin.id);
  assert.ok(r.logs.matching(/edge reported origin failure/).length === 1);

  // Only `other` keeps heartbeating; the first origin expires.
  now += TTL_MS - 1000;
  assert.equal((await http(r.port, { path: '/api/v1/srs/register', body: other })).status, 200);
  now += 2000;
  await waitFor(() => expired.length === 1, { timeoutMs: 2000, what: 'origin expired event' });
  assert.equal(expired[0]!.origin_id, ORIGIN_ID);
  assert.equal(expired[0]!.last_seen, 1_700_000_000_000);
  assert.equal(await metricValue(r.metrics, 'srsp_registry_origins_alive'), 1);
  assert.equal((await client.pick('__defaultVhost__/live/g')).origin.id, 'vid-other-z4771793-5873');
});

test('default backend: registered at start, refreshed so it never expires', async (t) => {
  let now = 1_700_000_000_000;
  const r = await startTestRegistry({
    now: () => now, originTtlMs: TTL_MS, timers: { sweepIntervalMs: 10, defaultBackendRefreshMs: 10 },
    env: { PROXY_DEFAULT_BACKEND_ENABLED: 'on', PROXY_DEFAULT_BACKEND_IP: '192.0.2.9', PROXY_DEFAULT_BACKEND_HTTP: '8080' },
  });
  t.after(() => r.close());
  const [o] = await r.balancer.listOrigins();
  assert.match(o!.origin.id, new RegExp(`^default-[0-9a-f]{7}-[0-9a-f]{7}-${process.pid}$`));
  assert.deepEqual([o!.origin.ip, o!.origin.rtmp, o!.origin.http, o!.origin.api, o!.origin.rtc, o!.origin.srt], ['192.0.2.9', ['1935'], ['8080'], ['1985'], ['8000'], ['10080']]);
  // Three TTLs pass in steps shorter than one TTL; the refresh keeps it alive throughout.
  for (let i = 0; i < 9; i++) {
    now += TTL_MS / 3;
    const stamp = now;
    await waitFor(async () => (await r.balancer.listOrigins())[0]?.origin.updated_at === stamp, { timeoutMs: 2000, what: 'default backend refresh' });
  }
  const client = new BusRegistryClient(r.bus, 1000);
  assert.equal((await client.pick('__defaultVhost__/live/d')).origin.id, o!.origin.id);
});

test('a bad default backend stops start-up naming the variable; close is idempotent', async () => {
  await assert.rejects(
    startTestRegistry({ env: { PROXY_DEFAULT_BACKEND_ENABLED: 'on', PROXY_DEFAULT_BACKEND_RTMP: 'not-a-port' } }),
    (err: unknown) => err instanceof Error && err.message.startsWith('PROXY_DEFAULT_BACKEND_RTMP:'),
  );
  const r = await startTestRegistry();
  const client = new BusRegistryClient(r.bus, 1000);
  await r.registry.close('first');
  await r.registry.close('second');
  assert.equal(r.logs.matching(/^registry closed$/).length, 1);
  await assert.rejects(client.pick('__defaultVhost__/live/x'), RegistryUnavailableError);
  await r.close();
});
