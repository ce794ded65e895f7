import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startNats, startNginxOrigin, startProxy, startRedis, waitFor, type NginxOrigin, type ProxyHandle, type RunningServer } from '../support/index.ts';
import { startNmsOrigin, type NmsOrigin } from '../support/nms-origin.ts';
import { ffmpegPlayer, ffmpegPublisher, type LiveSession } from './fault-support.ts';

/**
 * Placement survives state loss (cluster mode: registry on Redis, two rtmp-edge processes, NATS,
 * an nginx-rtmp and a node-media-server origin). A live ffmpeg publisher relays through edge A.
 * Redis is restarted empty (as the shipped compose and k8s files run it, `--save ''`): every
 * origin and stream mapping is gone. The publisher's edge re-asserts its stream's placement and
 * the registry re-writes the origins it knows, so within 10 s new players on edge B are sent to
 * the publisher's origin and decode frames. Several players in a row: with the `random` strategy
 * a fresh pick would land on the wrong origin half the time.
 */

/** The bound: a live stream is routable to its publisher's origin again within this. */
const REASSERT_BOUND_MS = 10_000;
/** Players after the restart; each would have a 1/2 chance of a wrong random pick. */
const PLAYERS = 4;
/** Frames a player must decode (25 fps test source: one second of video). */
const FRAMES = 25;
/** A player that reaches the right origin decodes its first second well within this, even on a loaded machine. */
const PLAYER_TIMEOUT_MS = 20_000;
/** Polling of the registry's streams view while waiting for the re-assertion. */
const POLL_MS = 100;

let redis: RunningServer;
let nats: RunningServer;
let registry: ProxyHandle;
let edgeA: ProxyHandle;
let edgeB: ProxyHandle;
let nginx: NginxOrigin;
let nms: NmsOrigin;

before(async () => {
  [redis, nats, nginx, nms] = await Promise.all([startRedis(), startNats(), startNginxOrigin(), startNmsOrigin()]);
  const env = {
    PROXY_NATS_URL: nats.url,
    PROXY_LOAD_BALANCER_TYPE: 'redis',
    PROXY_LOAD_BALANCE_STRATEGY: 'random',
    PROXY_REDIS_HOST: '127.0.0.1',
    PROXY_REDIS_PORT: String(redis.port),
    PROXY_REDIS_KEY_PREFIX: `srsp-lease-${process.pid}:`,
  };
  registry = await startProxy({ role: 'registry', env });
  [edgeA, edgeB] = await Promise.all([startProxy({ role: 'rtmp-edge', env }), startProxy({ role: 'rtmp-edge', env })]);
  for (const o of [nginx, nms]) assert.equal((await registry.register(o.heartbeatBody())).status, 200);
});

after(async () => {
  await Promise.all([edgeA?.stop(), edgeB?.stop()]);
  await registry?.stop();
  await Promise.all([nginx?.stop(), nms?.stop(), nats?.stop(), redis?.stop()]);
});

/** The registry's mapping of the stream, or undefined (GET /api/v1/proxy/streams). */
async function mappedOrigin(stream: string): Promise<string | undefined> {
  const r = await fetch(`http://127.0.0.1:${registry.ports.system}/api/v1/proxy/streams?limit=1000`);
  if (r.status !== 200) return undefined;
  const body = (await r.json()) as { streams: Array<{ stream_url: string; origin_id: string }> };
  return body.streams.find((s) => s.stream_url === stream)?.origin_id;
}

async function aliveOrigins(): Promise<string[]> {
  const r = await fetch(`http://127.0.0.1:${registry.ports.system}/api/v1/proxy/origins`);
  if (r.status !== 200) return [];
  const body = (await r.json()) as { origins: Array<{ origin: { id: string }; alive: boolean }> };
  return body.origins.filter((o) => o.alive).map((o) => o.origin.id).sort();
}

const describe = (s: LiveSession) => `${s.name}: progress ${s.progress()}, ended ${s.ended() ?? 'no'}, errors ${JSON.stringify(s.errors().slice(-5))}`;

async function decodes(name: string, url: string): Promise<void> {
  const player = ffmpegPlayer(name, url);
  try {
    await waitFor(() => player.progress() >= FRAMES || player.ended() !== undefined, { timeoutMs: PLAYER_TIMEOUT_MS, intervalMs: 100, what: name });
    assert.ok(player.progress() >= FRAMES, describe(player));
  } finally {
    await player.stop();
  }
}

test('Redis restarted empty under a live RTMP publisher: re-asserted within 10 s, every new player reaches the publisher\'s origin', async () => {
  const name = 'lease';
  const stream = `__defaultVhost__/live/${name}`;
  const publisher = ffmpegPublisher('publisher', `rtmp://127.0.0.1:${edgeA.ports.rtmp}/live/${name}`, 'flv');
  try {
    const home = await waitFor(() => mappedOrigin(stream), { timeoutMs: 20_000, what: 'the publisher placed' });
    const before = await aliveOrigins();
    assert.equal(before.length, 2);
    await decodes('player before the restart', `rtmp://127.0.0.1:${edgeB.ports.rtmp}/live/${name}`);

    await redis.stop();
    await redis.start();
    const restarted = performance.now();
    assert.equal(await mappedOrigin(stream).catch(() => undefined), undefined, 'the mapping is gone with the store');
    await waitFor(async () => (await mappedOrigin(stream)) === home, { timeoutMs: REASSERT_BOUND_MS, intervalMs: POLL_MS, what: `${stream} re-asserted on ${home}`, procs: [registry.proc, edgeA.proc] });
    const reassertMs = Math.round(performance.now() - restarted);
    console.log(`# placement re-asserted ${reassertMs} ms after Redis came back empty (bound ${REASSERT_BOUND_MS} ms)`);
    assert.deepEqual(await aliveOrigins(), before, 'the registry re-wrote both origins (no heartbeat was sent)');
    assert.ok(publisher.ended() === undefined, describe(publisher));

    for (let i = 1; i <= PLAYERS; i++) {
      await decodes(`player ${i} after the restart`, `rtmp://127.0.0.1:${edgeB.ports.rtmp}/live/${name}`);
      assert.equal(await mappedOrigin(stream), home, `still on the publisher's origin after player ${i}`);
    }
    // A second edge's player also goes through edge A (the publisher's edge).
    await decodes('player on the publisher\'s edge', `rtmp://127.0.0.1:${edgeA.ports.rtmp}/live/${name}`);
  } finally {
    await publisher.stop();
  }
});
