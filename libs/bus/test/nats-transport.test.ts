import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { NoOriginError } from '@srs-proxy/balancer';
import { createLogger, startTelemetry, withExtractedContext, errorCode } from '@srs-proxy/runtime';
import { freeTcpPort, requireBinary, spawnProcess, startNats, waitFor, type RunningServer, type Spawned } from '../../../test/support/index.ts';
import {
  NatsTransport, BusRegistryClient, RegistryTimeoutError, RegistryUnavailableError, RemoteError,
  subjects, REGISTRY_QUEUE, MESSAGE_VERSION, type Headers,
} from '../src/index.ts';

const logger = createLogger({ service: 'nats-transport-test', level: 'silent' });
let nats: RunningServer;
before(async () => {
  nats = await startNats();
});
after(async () => {
  await nats.stop();
});

async function transport(t: { after(fn: () => Promise<void>): void }, url = nats.url): Promise<NatsTransport> {
  const bus = await NatsTransport.connect({ servers: url, name: 'test', logger });
  t.after(() => bus.close());
  return bus;
}

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

test('request/reply carries JSON both ways', async (t) => {
  const server = await transport(t);
  const client = await transport(t);
  server.serve('t.echo', async (data) => ({ echoed: data }));
  await server.ping();
  const reply = await client.request('t.echo', { a: 1, s: 'ünïcode', n: null }, { timeoutMs: 2000 });
  assert.deepEqual(reply, { echoed: { a: 1, s: 'ünïcode', n: null } });
});

test('handler errors come back typed and never kill the subscription', async (t) => {
  const server = await transport(t);
  const client = await transport(t);
  let calls = 0;
  server.serve('t.fail', async (data) => {
    calls++;
    const mode = (data as { mode: string }).mode;
    if (mode === 'no-origin') throw new NoOriginError('no server available for x');
    if (mode === 'plain') throw new Error('boom');
    return 'fine';
  });
  // A handler that throws synchronously (not a rejected promise) is contained as well.
  server.serve('t.sync-throw', ((() => {
    throw new Error('sync boom');
  }) as unknown) as () => Promise<unknown>);
  await server.ping();

  await assert.rejects(client.request('t.fail', { mode: 'no-origin' }, { timeoutMs: 2000 }), (err: unknown) => {
    assert.ok(err instanceof RemoteError);
    assert.equal(err.code, 'SRSP_ERR_NO_ORIGIN');
    assert.equal(err.message, 'no server available for x');
    return true;
  });
  await assert.rejects(client.request('t.fail', { mode: 'plain' }, { timeoutMs: 2000 }), (err: unknown) => errorCode(err) === 'SRSP_ERR_INTERNAL');
  await assert.rejects(client.request('t.sync-throw', {}, { timeoutMs: 2000 }), (err: unknown) => errorCode(err) === 'SRSP_ERR_INTERNAL');
  assert.equal(await client.request('t.fail', { mode: 'ok' }, { timeoutMs: 2000 }), 'fine');
  assert.equal(calls, 3);

  // Malformed JSON from a foreign client gets a BAD_MESSAGE envelope; the subscription survives.
  const raw = await connect({ servers: nats.url });
  t.after(() => raw.close());
  const msg = await raw.request('t.fail', new TextEncoder().encode('{not json'), { timeout: 2000 });
  const env = JSON.parse(new TextDecoder().decode(msg.data));
  assert.deepEqual([env.ok, env.error.code], [false, 'SRSP_ERR_BAD_MESSAGE']);
  assert.equal(await client.request('t.fail', { mode: 'ok' }, { timeoutMs: 2000 }), 'fine');
});

test('a slow responder is a RegistryTimeoutError after the request timeout', async (t) => {
  const server = await transport(t);
  const client = await transport(t);
  server.serve('t.slow', () => new Promise((resolve) => setTimeout(() => resolve('late'), 1500)));
  await server.ping();
  const started = Date.now();
  await assert.rejects(client.request('t.slow', {}, { timeoutMs: 200 }), (err: unknown) => {
    assert.ok(err instanceof RegistryTimeoutError);
    assert.equal(err.code, 'SRSP_ERR_TIMEOUT');
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took >= 190 && took < 1000, `timed out after ${took} ms`);
});

test('no responders is a RegistryUnavailableError, well before the timeout', async (t) => {
  const client = await transport(t);
  const started = Date.now();
  await assert.rejects(client.request('t.nobody', {}, { timeoutMs: 5000 }), (err: unknown) => {
    assert.ok(err instanceof RegistryUnavailableError);
    assert.equal(err.code, 'SRSP_ERR_REGISTRY_UNAVAILABLE');
    return true;
  });
  assert.ok(Date.now() - started < 1000);
});

test('W3C trace context crosses NATS in headers, for requests and events', async (t) => {
  // The W3C propagator (installed by startTelemetry even with tracing off) and the async context
  // manager a traced process has (NodeSDK installs it when OTLP is configured).
  await startTelemetry({ serviceName: 'test', otlpEndpoint: undefined });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const server = await transport(t);
  const client = await transport(t);
  const seen: Headers[] = [];
  server.serve(subjects.pick, async (_data, headers) => {
    seen.push(headers);
    return { v: MESSAGE_VERSION, origin: { id: 'o1' }, fresh: true };
  }, { queue: REGISTRY_QUEUE });
  const events: Headers[] = [];
  server.subscribe('t.event', (_d, headers) => events.push(headers));
  await server.ping();

  // Explicit headers.
  await client.request(subjects.pick, { v: 1, stream_url: 'x' }, { timeoutMs: 2000, headers: { traceparent: TRACEPARENT, tracestate: 'vendor=abc' } });
  assert.equal(seen[0]!.traceparent, TRACEPARENT);
  assert.equal(seen[0]!.tracestate, 'vendor=abc');

  // What an edge does: the registry client injects the active context (here: one extracted from a client request).
  const registry = new BusRegistryClient(client, 2000);
  await withExtractedContext({ traceparent: TRACEPARENT }, () => registry.pick('__defaultVhost__/live/s'));
  assert.match(seen[1]!.traceparent ?? '', /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);

  client.publish('t.event', { x: 1 }, { traceparent: TRACEPARENT });
  await client.ping(); // flush: the event is delivered before the PONG round trip completes
  await waitFor(() => events.length === 1, { timeoutMs: 2000, what: 'event' });
  assert.equal(events[0]!.traceparent, TRACEPARENT);
});

test('replicas in one queue group split the requests, each answered once', async (t) => {
  const a = await transport(t);
  const b = await transport(t);
  const client = await transport(t);
  const counts = { a: 0, b: 0 };
  a.serve('t.q', async () => {
    counts.a++;
    return 'a';
  }, { queue: REGISTRY_QUEUE });
  b.serve('t.q', async () => {
    counts.b++;
    return 'b';
  }, { queue: REGISTRY_QUEUE });
  await a.ping();
  await b.ping();
  const replies = await Promise.all(Array.from({ length: 200 }, () => client.request('t.q', {}, { timeoutMs: 5000 })));
  assert.equal(counts.a + counts.b, 200);
  assert.ok(counts.a > 20 && counts.b > 20, `split ${counts.a}/${counts.b}`);
  assert.equal(replies.filter((r) => r === 'a').length, counts.a);

  // Unsubscribing one replica moves all traffic to the other.
  const sub = a.serve('t.q2', async () => 'a', { queue: REGISTRY_QUEUE });
  b.serve('t.q2', async () => 'b', { queue: REGISTRY_QUEUE });
  await a.ping();
  await b.ping();
  sub.unsubscribe();
  await a.ping();
  const after = await Promise.all(Array.from({ length: 20 }, () => client.request('t.q2', {}, { timeoutMs: 5000 })));
  assert.deepEqual(new Set(after), new Set(['b']));
});

test('reconnects after a nats-server restart and serves again', async (t) => {
  const bin = requireBinary('nats-server');
  const port = await freeTcpPort();
  const url = `nats://127.0.0.1:${port}`;
  const startServer = async (): Promise<Spawned> => {
    const p = spawnProcess(bin, ['-a', '127.0.0.1', '-p', String(port)]);
    await waitFor(() => /Server is ready/.test(p.output()), { timeoutMs: 10_000, what: 'nats-server ready' });
    return p;
  };
  let proc = await startServer();
  t.after(() => proc.stop().then(() => undefined));
  const server = await transport(t, url);
  const client = await transport(t, url);
  server.serve('t.r', async () => 'pong', { queue: REGISTRY_QUEUE });
  await server.ping(); // the SUB reached the server before anyone asks
  assert.equal(await client.request('t.r', {}, { timeoutMs: 2000 }), 'pong');

  await proc.stop();
  // While NATS is down: fail fast as unavailable (not after the timeout), readiness fails.
  await waitFor(async () => {
    try {
      await client.request('t.r', {}, { timeoutMs: 5000 });
      return false;
    } catch (err) {
      return err instanceof RegistryUnavailableError;
    }
  }, { timeoutMs: 10_000, what: 'requests to fail as unavailable' });
  await assert.rejects(client.ping(), RegistryUnavailableError);
  const started = Date.now();
  await assert.rejects(client.request('t.r', {}, { timeoutMs: 5000 }), RegistryUnavailableError);
  assert.ok(Date.now() - started < 500);

  proc = await startServer();
  // Both clients reconnect on their own and the responder's subscription is restored.
  await waitFor(async () => {
    try {
      return (await client.request('t.r', {}, { timeoutMs: 1000 })) === 'pong';
    } catch {
      return false;
    }
  }, { timeoutMs: 15_000, intervalMs: 200, what: 'request after reconnect' });
  await client.ping();
  await server.ping();
});

test('close is idempotent and later requests fail as unavailable', async (t) => {
  const client = await transport(t);
  await client.close();
  await client.close();
  await assert.rejects(client.request('t.x', {}, { timeoutMs: 1000 }), RegistryUnavailableError);
  await assert.rejects(client.ping(), RegistryUnavailableError);
  client.publish('t.x', {}); // no throw
});
