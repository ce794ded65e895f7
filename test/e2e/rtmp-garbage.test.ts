import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startNginxOrigin, startProxy, waitFor, type NginxOrigin, type ProxyHandle } from '../support/index.ts';
import { CLIP, callbackServer, probe, publishClip } from '../../services/rtmp-edge/test/e2e-helpers.ts';
import { RawRtmpClient } from '../../services/rtmp-edge/test/rtmp-client.ts';
import { HANDSHAKE_SIZE, clientC0C1 } from '../../services/rtmp-edge/src/rtmp/handshake.ts';

const GARBAGE_CONNECTIONS = 200;
const HANDSHAKE_TIMEOUT_MS = 1000;
const IDLE_TIMEOUT_MS = 1500;

let origin: NginxOrigin;
let proxy: ProxyHandle;
let hooks: Awaited<ReturnType<typeof callbackServer>>;

before(async () => {
  hooks = await callbackServer();
  origin = await startNginxOrigin({ onPublishUrl: hooks.url('/publish') });
  proxy = await startProxy({ env: { PROXY_RTMP_HANDSHAKE_TIMEOUT: `${HANDSHAKE_TIMEOUT_MS}ms`, PROXY_RTMP_IDLE_TIMEOUT: `${IDLE_TIMEOUT_MS}ms` } });
  assert.equal((await proxy.register(origin.heartbeatBody())).status, 200);
});

after(async () => {
  await proxy?.stop();
  await origin?.stop();
  await hooks?.close();
});

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function closedWithin(s: Socket, ms: number): Promise<number | undefined> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    s.on('data', () => {});
    s.on('error', () => {});
    s.once('close', () => {
      clearTimeout(t);
      resolve(performance.now() - t0);
    });
  });
}

test('a connection that sends nothing is closed after the handshake timeout', async () => {
  const s = await open(proxy.ports.rtmp);
  const took = await closedWithin(s, HANDSHAKE_TIMEOUT_MS + 3000);
  assert.ok(took !== undefined, 'still open');
  assert.ok(took >= HANDSHAKE_TIMEOUT_MS - 50, `closed after ${took} ms`);
});

test('a relaying session with no data in either direction is closed after the idle timeout', async () => {
  const c = await RawRtmpClient.open(proxy.ports.rtmp);
  assert.equal((await c.publish(`rtmp://127.0.0.1:${proxy.ports.rtmp}/live`, 'silent')).code, 'NetStream.Publish.Start');
  const t0 = performance.now();
  assert.ok(await c.closed(IDLE_TIMEOUT_MS + 4000), 'idle session still open');
  assert.ok(performance.now() - t0 >= IDLE_TIMEOUT_MS - 100);
});

test(`${GARBAGE_CONNECTIONS} garbage connections do not disturb a healthy publish`, async () => {
  const pub = publishClip(`rtmp://127.0.0.1:${proxy.ports.rtmp}/live/healthy`, { loops: 2 });
  const sockets: Socket[] = [];
  try {
    const closes: Promise<number | undefined>[] = [];
    for (let i = 0; i < GARBAGE_CONNECTIONS; i++) {
      const s = await open(proxy.ports.rtmp);
      sockets.push(s);
      closes.push(closedWithin(s, HANDSHAKE_TIMEOUT_MS + 8000));
      switch (i % 5) {
        case 0: // random bytes
          s.write(randomBytes(64 + (i % 3000)));
          break;
        case 1: // an HTTP request on the RTMP port
          s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
          break;
        case 2: // valid handshake, then a garbage chunk stream
          s.write(clientC0C1());
          s.write(randomBytes(HANDSHAKE_SIZE));
          s.write(randomBytes(2000));
          break;
        case 3: // valid handshake, then a message claiming 16 MiB
          s.write(clientC0C1());
          s.write(randomBytes(HANDSHAKE_SIZE));
          s.write(Buffer.from('03000000ffffff1400000000', 'hex'));
          s.write(randomBytes(4000));
          break;
        default: // slow loris: one byte of C0, then nothing
          s.write(Buffer.from([3]));
      }
    }
    await waitFor(() => hooks.calls.find((c) => c.body.get('name') === 'healthy'), { timeoutMs: 10_000, what: 'healthy publish' });
    const r = await probe(`rtmp://127.0.0.1:${proxy.ports.rtmp}/live/healthy`);
    assert.equal(r.video?.codec, CLIP.video, r.output);
    assert.ok((r.video?.frames ?? 0) > 0);
    // Every garbage connection is closed by the edge (bad input at once, silent ones by timeout).
    const results = await Promise.all(closes);
    assert.equal(results.filter((x) => x === undefined).length, 0, 'garbage connections left open');
    assert.equal(pub.child.exitCode, null, `publisher died: ${pub.output()}`);
  } finally {
    for (const s of sockets) s.destroy();
    await pub.stop();
  }
});
