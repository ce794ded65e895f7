import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisBalancer } from '@srs-proxy/balancer';
import { EdgeAnnouncer, MESSAGE_VERSION, subjects, type EdgeAnnouncement } from '@srs-proxy/bus';
import { markSession } from '@srs-proxy/runtime';
import { startRedis, type RunningServer } from '../../../test/support/index.ts';
import { OPENAPI_DOCUMENT } from '../src/openapi.ts';
import { http, startTestRegistry, type TestRegistry } from './support.ts';
import { srsSummaries, startSilentOrigin, startSrsApiOrigin } from './srs-api-origin.ts';

const get = (port: number, path: string, headers: Record<string, string> = {}) => http(port, { method: 'GET', path, headers });

function heartbeat(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ip: '127.0.0.1', server: name, service: 'svc', pid: '1', rtmp: ['1935'], http: ['8080'], ...extra };
}

async function register(r: TestRegistry, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<void> {
  const res = await http(r.port, { path: '/api/v1/srs/register', body: JSON.stringify(body), headers });
  assert.equal(res.status, 200, res.body);
}

/** Places `n` streams over the apps `live` and `game` through the registry's real pick path (the bus). */
async function placeStreams(r: TestRegistry, n: number): Promise<void> {
  const batch = 500;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) =>
      r.bus.request(subjects.pick, { v: MESSAGE_VERSION, stream_url: `__defaultVhost__/${(i + j) % 5 === 0 ? 'game' : 'live'}/s${String(i + j).padStart(5, '0')}`, protocol: 'rtmp' }, { timeoutMs: 5_000 })));
  }
}

async function allStreams(port: number, query: string): Promise<Array<{ stream_url: string; origin_id: string }>> {
  const out: Array<{ stream_url: string; origin_id: string }> = [];
  let cursor: string | null = null;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 100, 'paging ends');
    const res = await get(port, `/api/v1/cluster/streams?${query}${cursor === null ? '' : `&cursor=${cursor}`}`);
    assert.equal(res.status, 200, res.body);
    const body = res.json();
    out.push(...body.streams);
    cursor = body.next_cursor;
    if (cursor === null) return out;
  }
}

describe('cluster API: origins, streams, auth', () => {
  let clock = 1_700_000_000_000;
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ now: () => clock });
  });
  after(() => r.close());

  it('lists origins with resolved addresses, heartbeat age, stream counts and the load from summaries', async () => {
    await register(r, heartbeat('a', { device_id: 'origin-a', api: ['1985'], srt: ['udp://0.0.0.0:10080'], summaries: srsSummaries(clock, 1_000_000, 5_000_000) }));
    clock += 10_000;
    // 10 s later: 1 250 000 bytes in, 2 500 000 out → 1 000 / 2 000 kbit/s.
    await register(r, heartbeat('a', { device_id: 'origin-a', api: ['1985'], srt: ['udp://0.0.0.0:10080'], summaries: srsSummaries(clock, 2_250_000, 7_500_000) }));
    await register(r, heartbeat('b'));
    clock += 4_000;
    await r.bus.request(subjects.pick, { v: MESSAGE_VERSION, stream_url: '__defaultVhost__/live/one', protocol: 'rtmp' }, { timeoutMs: 2_000 });

    const res = await get(r.port, '/api/v1/cluster/origins');
    assert.equal(res.status, 200);
    const { origins } = res.json();
    assert.equal(origins.length, 2);
    const a = origins.find((o: { server: string }) => o.server === 'a');
    assert.deepEqual(a.addresses, { rtmp: ['127.0.0.1:1935'], http: ['127.0.0.1:8080'], api: ['127.0.0.1:1985'], srt: ['127.0.0.1:10080'], rtc: [] });
    assert.equal(a.device_id, 'origin-a');
    assert.equal(a.alive, true);
    assert.equal(a.heartbeat_age_ms, 4_000);
    assert.equal(a.last_heartbeat, new Date(clock - 4_000).toISOString());
    assert.equal(a.penalized_until, null);
    assert.deepEqual(a.load, { cpu_percent: 25, srs_cpu_percent: 9, load_1m: 0.5, cpus: 8, mem_percent: 18, srs_mem_kbyte: 81852, connections: 8, kbps: { recv: 1000, send: 2000 } });
    const b = origins.find((o: { server: string }) => o.server === 'b');
    assert.equal(b.load, null, 'no summaries, no load');
    assert.equal(origins.reduce((n: number, o: { streams: number }) => n + o.streams, 0), 1);

    const one = await get(r.port, `/api/v1/cluster/origins/${encodeURIComponent(a.id)}`);
    assert.equal(one.json().origin.id, a.id);
    assert.equal((await get(r.port, '/api/v1/cluster/origins/nope')).status, 404);

    const summary = (await get(r.port, '/api/v1/cluster')).json();
    assert.deepEqual({ ...summary, time: undefined }, { code: 0, mode: 'standalone', balancer: 'memory', time: undefined, origins: { total: 2, alive: 2 }, streams: 1, edges: { total: 0, sessions: 0 } });
  });

  it('pages 5 000 streams with a cursor: each once, in order, with placement time and protocol; filters by app and origin', async () => {
    await placeStreams(r, 5_000);
    const all = await allStreams(r.port, 'limit=1000');
    assert.equal(all.length, 5_001);
    assert.equal(new Set(all.map((s) => s.stream_url)).size, all.length, 'no stream twice');
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.stream_url < all[i]!.stream_url);
    const first = (await get(r.port, '/api/v1/cluster/streams?limit=1')).json().streams[0];
    assert.deepEqual(Object.keys(first).sort(), ['age_ms', 'app', 'client_protocols', 'origin_id', 'placed_at', 'players', 'protocol', 'publishers', 'stream', 'stream_url', 'vhost']);
    assert.equal(first.protocol, 'rtmp');
    assert.equal(first.placed_at, new Date(clock).toISOString());
    assert.equal(first.vhost, '__defaultVhost__');

    const games = await allStreams(r.port, 'limit=300&app=game');
    assert.equal(games.length, 1_000);
    const origins = (await get(r.port, '/api/v1/cluster/origins')).json().origins as Array<{ id: string; streams: number }>;
    let sum = 0;
    for (const o of origins) {
      const own = await allStreams(r.port, `limit=1000&origin=${encodeURIComponent(o.id)}`);
      assert.equal(own.length, o.streams);
      assert.ok(own.every((s) => s.origin_id === o.id));
      sum += own.length;
    }
    assert.equal(sum, 5_001);
  });

  it('rejects bad parameters with 400 naming the field', async () => {
    for (const [query, field] of [['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=abc', 'limit'], ['cursor=!!', 'cursor'], ['cursor=Zm9v_', 'cursor'], ['app=a/b', 'app'], ['vhost=', 'vhost'], ['limit=1&limit=2', 'limit']] as const) {
      const res = await get(r.port, `/api/v1/cluster/streams?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.json().field, field, query);
    }
    const players = await get(r.port, '/api/v1/cluster/streams/players');
    assert.equal(players.status, 400);
    assert.equal(players.json().field, 'stream');
  });
});

describe('cluster API: auth', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ env: { PROXY_HTTP_API_AUTH_TOKEN: 's3cret' } });
  });
  after(() => r.close());

  it('needs the bearer token for every view, not for the OpenAPI document or the console page', async () => {
    for (const path of ['/api/v1/cluster', '/api/v1/cluster/origins', '/api/v1/cluster/streams', '/api/v1/cluster/edges', '/api/v1/cluster/live', '/api/v1/cluster/streams/players?stream=x', '/api/v1/cluster/origins/x/live']) {
      const res = await get(r.port, path);
      assert.equal(res.status, 401, path);
      assert.deepEqual(res.json(), { code: 401, error: 'unauthorized' });
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="srs-proxy"');
      assert.equal((await get(r.port, path, { authorization: 'Bearer wrong' })).status, 401, path);
      assert.notEqual((await get(r.port, path, { authorization: 'Bearer s3cret' })).status, 401, path);
    }
    const doc = await get(r.port, '/api/v1/cluster/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal(doc.json().openapi, '3.1.0');
    const page = await get(r.port, '/console/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
    assert.match(page.body, /<script type="module" src="console.js">/);
    assert.equal((await get(r.port, '/console/console.js')).status, 200);
    assert.equal((await get(r.port, '/console/../package.json')).status, 404);
    assert.equal((await get(r.port, '/console/nope.js')).status, 404);
    const redirect = await get(r.port, '/console');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/console/');
  });

  it('describes every route it serves in the OpenAPI document', () => {
    const paths = Object.keys(OPENAPI_DOCUMENT.paths);
    for (const p of ['/api/v1/cluster', '/api/v1/cluster/origins', '/api/v1/cluster/origins/{id}', '/api/v1/cluster/origins/{id}/live', '/api/v1/cluster/live', '/api/v1/cluster/streams', '/api/v1/cluster/streams/players', '/api/v1/cluster/edges', '/api/v1/cluster/openapi.json']) {
      assert.ok(paths.includes(p), p);
    }
  });
});

describe('cluster API: live detail from the origins', () => {
  /** Short enough for a quick test, long enough for a loopback answer on a busy machine. */
  const LIVE_TIMEOUT_MS = 800;
  let r: TestRegistry;
  let srs: Awaited<ReturnType<typeof startSrsApiOrigin>>;
  let silent: Awaited<ReturnType<typeof startSilentOrigin>>;
  let closedPort: number;
  before(async () => {
    srs = await startSrsApiOrigin();
    silent = await startSilentOrigin();
    // A port that was just free and is closed again: connections are refused.
    const tmp = await startSilentOrigin();
    closedPort = tmp.port;
    await tmp.close();
    r = await startTestRegistry({ env: { PROXY_CLUSTER_LIVE_TIMEOUT: `${LIVE_TIMEOUT_MS}ms`, PROXY_CLUSTER_LIVE_CACHE_TTL: '60s', PROXY_CLUSTER_LIVE_CONCURRENCY: '2' } });
    await register(r, heartbeat('answering', { api: [String(srs.port)] }));
    await register(r, heartbeat('silent', { api: [String(silent.port)] }));
    await register(r, heartbeat('refusing', { api: [String(closedPort)] }));
    await register(r, heartbeat('no-api'));
  });
  after(async () => {
    await r.close();
    await srs.close();
    await silent.close();
  });

  it('serves what the answering origins said and names the failure of each other one, within the timeout', async () => {
    const started = performance.now();
    const res = await get(r.port, '/api/v1/cluster/live');
    const took = performance.now() - started;
    assert.equal(res.status, 200, res.body);
    const body = res.json();
    assert.equal(body.partial, true);
    const by = (server: string) => body.origins.find((o: { origin_id: string }) => o.origin_id.startsWith(`${server}-`));
    const ok = by('answering');
    assert.equal(ok.ok, true);
    assert.equal(ok.error, null);
    assert.equal(ok.api, `127.0.0.1:${srs.port}`);
    assert.deepEqual(ok.streams[0], {
      stream_url: '__defaultVhost__/live/livestream', id: 'vid-0x1', app: 'live', name: 'livestream', clients: 3, publishing: true,
      kbps: { recv: 2510, send: 5020 }, video: { codec: 'H264', width: 1280, height: 720 }, audio: { codec: 'AAC', sample_rate: 44100, channels: 2 },
    });
    assert.equal(ok.clients.length, 3);
    assert.ok(ok.clients.every((c: { stream_url: string }) => c.stream_url === '__defaultVhost__/live/livestream'));
    assert.equal(ok.load.cpu_percent, 25);
    assert.equal(by('silent').error, 'timeout');
    assert.equal(by('refusing').error, 'unreachable');
    assert.equal(by('no-api').error, 'no_api_endpoint');
    // 4 origins, 2 at a time: the silent one costs one timeout; nothing waits for it twice.
    assert.ok(took < LIVE_TIMEOUT_MS * 2 + 1_500, `took ${took.toFixed(0)} ms`);
    assert.ok(!JSON.stringify(body).includes('ECONNREFUSED'), 'no internal error text');
  });

  it('reuses an answer within the cache TTL', async () => {
    const before = srs.requests.get('/api/v1/streams/') ?? 0;
    const id = (await get(r.port, '/api/v1/cluster/origins')).json().origins.find((o: { server: string }) => o.server === 'answering').id;
    for (let i = 0; i < 5; i++) assert.equal((await get(r.port, `/api/v1/cluster/origins/${encodeURIComponent(id)}/live`)).json().live.ok, true);
    assert.equal(srs.requests.get('/api/v1/streams/') ?? 0, before, 'answered from the cache');
  });

  it("lists a stream's clients per edge and at its origin", async () => {
    const stream = '__defaultVhost__/live/livestream';
    // Place the stream on the answering origin: the only candidate that is not avoided.
    const avoid = (await get(r.port, '/api/v1/cluster/origins')).json().origins.filter((o: { server: string }) => o.server !== 'answering').map((o: { id: string }) => o.id);
    await r.bus.request(subjects.pick, { v: MESSAGE_VERSION, stream_url: stream, protocol: 'rtmp', avoid }, { timeoutMs: 2_000 });
    const announcer = new EdgeAnnouncer({ bus: r.bus, logger: r.logger }, { role: 'http-edge', listen: { http: '0.0.0.0:18080' }, sessions: () => 2 });
    const marks = [markSession('http-edge', 'flv', stream, 'play'), markSession('http-edge', 'hls', stream, 'play'), markSession('rtmp-edge', 'rtmp', stream, 'publish')];
    announcer.start();
    try {
      const res = (await get(r.port, `/api/v1/cluster/streams/players?stream=${encodeURIComponent(stream)}`)).json();
      assert.equal(res.origin_id, (await get(r.port, '/api/v1/cluster/origins')).json().origins.find((o: { server: string }) => o.server === 'answering').id);
      assert.deepEqual(res.edges.map((e: { protocol: string; players: number; publishers: number; role: string }) => [e.role, e.protocol, e.publishers, e.players]).sort(), [['http-edge', 'flv', 0, 1], ['http-edge', 'hls', 0, 1]], 'only the http-edge announced; its own sessions');
      assert.equal(res.origin.ok, true);
      assert.deepEqual(res.origin.clients.map((c: { type: string }) => c.type), ['fmle-publish', 'flv-play', 'rtmp-play']);
    } finally {
      for (const m of marks) m.close();
      announcer.close();
    }
  });
});

describe('cluster API: edges', () => {
  let clock = 1_700_000_000_000;
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ now: () => clock });
  });
  after(() => r.close());

  const announcement = (id: string, extra: Partial<EdgeAnnouncement> = {}): EdgeAnnouncement => ({
    v: MESSAGE_VERSION, id, role: 'rtmp-edge', version: '1.5.0', host: 'pod-1', listen: { rtmp: '0.0.0.0:1935' }, pid: 7, sessions: 3,
    started_at: clock - 60_000, at: clock, expires_in_ms: 15_000,
    streams: [{ stream_url: '__defaultVhost__/live/a', protocol: 'rtmp', publishers: 1, players: 2 }], ...extra,
  });

  it('lists the announced edges, forgets the silent ones after their expiry and the gone ones at once, and ignores bad announcements', async () => {
    r.bus.publish(subjects.edgeAnnounce, announcement('e1'));
    r.bus.publish(subjects.edgeAnnounce, announcement('e2', { role: 'srt-edge' }));
    r.bus.publish(subjects.edgeAnnounce, { v: MESSAGE_VERSION, id: 'bad' });
    r.bus.publish(subjects.edgeAnnounce, announcement('e3', { streams: 'many' as never }));
    let edges = (await get(r.port, '/api/v1/cluster/edges')).json().edges;
    assert.deepEqual(edges.map((e: { id: string }) => e.id), ['e1', 'e2']);
    assert.deepEqual(edges[0], {
      id: 'e1', role: 'rtmp-edge', version: '1.5.0', host: 'pod-1', listen: { rtmp: '0.0.0.0:1935' }, pid: 7, sessions: 3, uptime_s: 60,
      last_seen: new Date(clock).toISOString(), last_seen_age_ms: 0, streams: 1, publishers: 1, players: 2,
    });
    assert.ok(r.logs.lines.some((l) => /edge announcement ignored/.test(String(l.msg))), 'a bad announcement is logged');

    const stream = (await get(r.port, '/api/v1/cluster/streams')).json();
    assert.deepEqual(stream.streams, [], 'announcements do not create placements');

    clock += 10_000;
    r.bus.publish(subjects.edgeAnnounce, announcement('e2', { role: 'srt-edge' }));
    clock += 6_000;
    edges = (await get(r.port, '/api/v1/cluster/edges')).json().edges;
    assert.deepEqual(edges.map((e: { id: string }) => e.id), ['e2'], 'e1 expired 15 s after its last announcement');
    r.bus.publish(subjects.edgeAnnounce, announcement('e2', { role: 'srt-edge', gone: true }));
    assert.deepEqual((await get(r.port, '/api/v1/cluster/edges')).json().edges, []);
  });
});

describe('cluster API: redis balancer', () => {
  let redis: RunningServer;
  let balancer: RedisBalancer;
  let r: TestRegistry;
  before(async () => {
    redis = await startRedis();
    balancer = new RedisBalancer({ host: '127.0.0.1', port: redis.port, db: 0, keyPrefix: 'api:' });
    await balancer.init();
    r = await startTestRegistry({ balancer });
  });
  after(async () => {
    await r.close();
    await balancer.close();
    await redis.stop();
  });

  it('pages 5 000 streams placed in Redis once each, with per-origin counts', async () => {
    await register(r, heartbeat('a'));
    await register(r, heartbeat('b'));
    await placeStreams(r, 5_000);
    const all = await allStreams(r.port, 'limit=700');
    assert.equal(all.length, 5_000);
    assert.equal(new Set(all.map((s) => s.stream_url)).size, 5_000);
    const origins = (await get(r.port, '/api/v1/cluster/origins')).json().origins as Array<{ streams: number }>;
    assert.equal(origins.reduce((n, o) => n + o.streams, 0), 5_000);
    assert.equal((await allStreams(r.port, 'limit=1000&app=game')).length, 1_000);
  });

  it('answers 503 without internal error text when Redis is gone', async () => {
    await redis.stop();
    const res = await get(r.port, '/api/v1/cluster/origins');
    assert.equal(res.status, 503);
    assert.deepEqual(res.json(), { code: 503, error: 'cluster state unavailable' });
  });
});
