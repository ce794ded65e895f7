import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusRegistryClient, subjects, type Headers } from '@srs-proxy/bus';
import { startTelemetry, withExtractedContext } from '@srs-proxy/runtime';
import { wantsTraceContext } from '../src/bus-responders.ts';
import { SRS7_UPSTREAM_EXAMPLE, http, startTestRegistry } from './support.ts';
import { waitFor } from '../../../test/support/index.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

// One process, in order: without an exporter (what every service runs by default), then with one.
test('without an exporter, only a caller trace context makes a pick run in a context, and it reaches the event', async (t) => {
  // Like every entry: the W3C propagator and the async context manager, no exporter.
  await startTelemetry({ serviceName: 'registry-test', otlpEndpoint: undefined });
  assert.equal(wantsTraceContext({}), false);
  assert.equal(wantsTraceContext({ traceparent: TRACEPARENT }), true);

  const r = await startTestRegistry();
  t.after(() => r.close());
  assert.equal((await http(r.port, { path: '/api/v1/srs/register', body: SRS7_UPSTREAM_EXAMPLE })).status, 200);
  const events: Array<{ stream: string; headers: Headers }> = [];
  r.bus.subscribe(subjects.streamPicked, (e, headers) => events.push({ stream: (e as { stream_url: string }).stream_url, headers }));
  const client = new BusRegistryClient(r.bus, 2_000);

  await client.pick('__defaultVhost__/live/untraced');
  await withExtractedContext({ traceparent: TRACEPARENT }, () => client.pick('__defaultVhost__/live/traced'));
  await waitFor(() => events.length === 2, { timeoutMs: 2_000, what: 'stream picked events' });
  const byStream = new Map(events.map((e) => [e.stream, e.headers]));
  assert.equal(byStream.get('__defaultVhost__/live/untraced')!.traceparent, undefined);
  assert.match(byStream.get('__defaultVhost__/live/traced')!.traceparent ?? '', new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
});

test('with an exporter configured, every request runs in a span', async () => {
  // Nothing listens there; no span is ended in this test, so nothing is sent.
  const telemetry = await startTelemetry({ serviceName: 'registry-test', otlpEndpoint: 'http://127.0.0.1:9/v1/traces' });
  try {
    assert.equal(wantsTraceContext({}), true);
  } finally {
    await telemetry.close();
  }
});
