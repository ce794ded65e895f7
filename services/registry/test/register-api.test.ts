import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subjects } from '@srs-proxy/bus';
import { REGISTER_BODY_LIMIT } from '../src/index.ts';
import { SRS7_UPSTREAM_EXAMPLE, http, startTestRegistry, stateOf } from './support.ts';

const REGISTER = '/api/v1/srs/register';

test('accepts the exact SRS 7 heartbeat and replies like the Go proxy', async (t) => {
  const r = await startTestRegistry();
  t.after(() => r.close());
  const heartbeats: unknown[] = [];
  r.bus.subscribe(subjects.originHeartbeat, (e) => heartbeats.push(e));

  const res = await http(r.port, { path: REGISTER, headers: { 'content-type': 'application/json', 'user-agent': 'SRS/7.0.18(Hang)' }, body: SRS7_UPSTREAM_EXAMPLE });
  assert.equal(res.status, 200);
  assert.equal(res.headers.server, 'SRSProxy/1.5.0');
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.deepEqual(res.json(), { code: 0, pid: String(process.pid) });

  const origins = await r.balancer.listOrigins();
  assert.equal(origins.length, 1);
  const o = origins[0]!.origin;
  assert.equal(o.id, 'vid-12r842t-z4771793-5873');
  assert.equal(o.ip, '192.0.2.2');
  assert.equal(o.device_id, 'origin1');
  assert.deepEqual([o.rtmp, o.http, o.api, o.srt, o.rtc], [['19351'], ['8081'], ['19851'], ['udp://0.0.0.0:10081'], []]);
  assert.equal(origins[0]!.alive, true);

  assert.equal(r.logs.matching(/^Register SRS media server, SRS ip=192\.0\.2\.2, id=vid-12r842t-z4771793-5873/).length, 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(heartbeats.map((e) => (e as { origin_id: string; first: boolean }).first), [true]);

  // The same origin again is a refresh: logged at debug only, not a second record.
  const again = await http(r.port, { path: REGISTER, headers: { 'content-type': 'application/json' }, body: SRS7_UPSTREAM_EXAMPLE });
  assert.equal(again.status, 200);
  assert.equal((await r.balancer.listOrigins()).length, 1);
  const lines = r.logs.matching(/^Register SRS media server/);
  assert.equal(lines.length, 2);
  assert.deepEqual(lines.map((l) => l.level), [30, 20]);
});

test('accepts SRS 5 and SRS 6 heartbeat shapes, any content type, any method', async (t) => {
  const r = await startTestRegistry();
  t.after(() => r.close());
  const srs5 = JSON.stringify({
    device_id: '', ip: '10.0.0.5', server: 'vid-46p14mm', service: 'z2s3w865', pid: '42583',
    summaries: { ok: true, data: { pid: 42583, ppid: 1, argv: './objs/srs -c conf/origin.conf', cwd: '/srs', mem_kbyte: 14000, self: { version: '5.0.215' }, system: { cpu_percent: 0.01 } } },
    rtmp: ['0.0.0.0:1935'], http: ['8080'], api: ['1985'],
  });
  // SRS 6 with WebRTC over UDP and TCP, several RTMP listens, pretty-printed JSON.
  const srs6 = JSON.stringify({
    device_id: 'origin2', ip: '10.0.0.6', server: 'vid-abc', service: 'k3k3k3k3', pid: '77',
    rtmp: ['19352', '[::]:19352'], http: ['8082'], api: ['19852'], srt: ['udp://0.0.0.0:10082'], rtc: ['udp://0.0.0.0:8002', 'tcp://0.0.0.0:8002'],
  }, null, 2);
  const a = await http(r.port, { path: REGISTER, headers: { 'content-type': 'text/plain' }, body: srs5 });
  assert.equal(a.status, 200, a.body);
  const b = await http(r.port, { method: 'PUT', path: REGISTER, body: srs6 }); // no content type at all
  assert.equal(b.status, 200, b.body);
  const byId = new Map((await r.balancer.listOrigins()).map((s) => [s.origin.id, s.origin]));
  assert.deepEqual(byId.get('vid-46p14mm-z2s3w865-42583')?.summaries, JSON.parse(srs5).summaries);
  assert.deepEqual(byId.get('vid-abc-k3k3k3k3-77')?.rtc, ['udp://0.0.0.0:8002', 'tcp://0.0.0.0:8002']);
  assert.equal(byId.size, 2);
});

test('a bad body is a 400 JSON error naming the field and changes nothing', async (t) => {
  const r = await startTestRegistry();
  t.after(() => r.close());
  assert.equal((await http(r.port, { path: REGISTER, body: SRS7_UPSTREAM_EXAMPLE })).status, 200);
  const good = JSON.parse(SRS7_UPSTREAM_EXAMPLE) as Record<string, unknown>;
  const cases: Array<[string, string | undefined, string, RegExp]> = [
    ['empty body', undefined, 'ip', /^empty ip$/],
    ['whitespace body', '  \n', 'ip', /^empty ip$/],
    ['invalid JSON', '{"ip":', 'body', /^parse body: json unmarshal/],
    ['JSON array', '[1,2]', 'body', /JSON object/],
    ['JSON string', '"x"', 'body', /JSON object/],
    ['no ip', JSON.stringify({ ...good, ip: undefined }), 'ip', /^empty ip$/],
    ['no server', JSON.stringify({ ...good, server: '' }), 'server', /^empty server$/],
    ['no service', JSON.stringify({ ...good, service: undefined }), 'service', /^empty service$/],
    ['no pid', JSON.stringify({ ...good, pid: undefined }), 'pid', /^empty pid$/],
    ['numeric pid', JSON.stringify({ ...good, pid: 5873 }), 'pid', /string/],
    ['no rtmp', JSON.stringify({ ...good, rtmp: undefined }), 'rtmp', /^empty rtmp$/],
    ['empty rtmp', JSON.stringify({ ...good, rtmp: [] }), 'rtmp', /^empty rtmp$/],
    ['rtmp not an array', JSON.stringify({ ...good, rtmp: '19351' }), 'rtmp', /array/],
    ['rtmp entry not a string', JSON.stringify({ ...good, rtmp: [19351] }), 'rtmp[0]', /string/],
    ['bad rtc endpoint', JSON.stringify({ ...good, rtc: ['udp://0.0.0.0:99999'] }), 'rtc[0]', /port/],
    ['summaries not an object', JSON.stringify({ ...good, summaries: 'x' }), 'summaries', /object/],
  ];
  const before = await stateOf(r.balancer);
  for (const [name, body, field, message] of cases) {
    const res = await http(r.port, { path: REGISTER, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body }) });
    assert.equal(res.status, 400, name);
    assert.equal(res.headers.server, 'SRSProxy/1.5.0', name);
    assert.match(String(res.headers['content-type']), /^application\/json/, name);
    const j = res.json();
    assert.equal(j.code, 400, name);
    assert.equal(j.field, field, name);
    assert.match(j.error, message, name);
    // Upstream appends its success body after the error text; we must not.
    assert.ok(!res.body.includes('"code":0'), name);
    assert.equal(await stateOf(r.balancer), before, `${name}: state changed`);
  }

  const huge = JSON.stringify({ ...good, summaries: { pad: 'x'.repeat(REGISTER_BODY_LIMIT) } });
  const big = await http(r.port, { path: REGISTER, body: huge });
  assert.equal(big.status, 413);
  assert.equal(big.json().field, 'body');
  assert.equal(await stateOf(r.balancer), before);
});

test('versions, cluster views and the Go-style 404', async (t) => {
  const r = await startTestRegistry();
  t.after(() => r.close());
  for (const method of ['GET', 'POST']) {
    const v = await http(r.port, { method, path: '/api/v1/versions' });
    assert.equal(v.status, 200);
    assert.equal(v.headers.server, 'SRSProxy/1.5.0');
    assert.match(String(v.headers['content-type']), /^application\/json/);
    assert.equal(v.body, '{"signature":"SRSProxy","version":"1.5.0"}');
  }
  const slash = await http(r.port, { method: 'GET', path: '/api/v1/versions/' });
  assert.equal(slash.status, 404);
  assert.equal(slash.body, '404 page not found\n');
  assert.match(String(slash.headers['content-type']), /^text\/plain/);

  assert.equal((await http(r.port, { path: REGISTER, body: SRS7_UPSTREAM_EXAMPLE })).status, 200);
  await r.balancer.pick('__defaultVhost__/live/a');
  const origins = await http(r.port, { method: 'GET', path: '/api/v1/proxy/origins' });
  assert.equal(origins.status, 200);
  assert.deepEqual(origins.json().origins.map((o: { origin: { id: string }; alive: boolean }) => [o.origin.id, o.alive]), [['vid-12r842t-z4771793-5873', true]]);
  const streams = await http(r.port, { method: 'GET', path: '/api/v1/proxy/streams?limit=10' });
  assert.deepEqual(streams.json().streams.map((m: { stream_url: string; origin_id: string }) => [m.stream_url, m.origin_id]), [['__defaultVhost__/live/a', 'vid-12r842t-z4771793-5873']]);
  assert.equal((await http(r.port, { method: 'GET', path: '/api/v1/proxy/streams?limit=0' })).status, 400);
});

test('bearer token: unauthenticated registers are 401 and change nothing', async (t) => {
  const r = await startTestRegistry({ env: { PROXY_HTTP_API_AUTH_TOKEN: 's3cret-token' } });
  t.after(() => r.close());
  const headerSets: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, { authorization: 's3cret-token' }, { authorization: 'Basic czNjcmV0LXRva2Vu' }];
  for (const headers of headerSets) {
    const res = await http(r.port, { path: REGISTER, headers, body: SRS7_UPSTREAM_EXAMPLE });
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal(res.json().code, 401);
  }
  assert.equal((await r.balancer.listOrigins()).length, 0);
  // Without the secret configured, a path segment is just an unknown path.
  assert.equal((await http(r.port, { path: `${REGISTER}/s3cret-token`, body: SRS7_UPSTREAM_EXAMPLE })).status, 404);
  assert.equal((await http(r.port, { method: 'GET', path: '/api/v1/proxy/origins' })).status, 401);
  assert.equal((await r.balancer.listOrigins()).length, 0);

  const ok = await http(r.port, { path: REGISTER, headers: { authorization: 'Bearer s3cret-token' }, body: SRS7_UPSTREAM_EXAMPLE });
  assert.equal(ok.status, 200);
  assert.equal((await r.balancer.listOrigins()).length, 1);
  const view = await http(r.port, { method: 'GET', path: '/api/v1/proxy/origins', headers: { authorization: 'Bearer s3cret-token' } });
  assert.equal(view.status, 200);
  // Versions stay open: tools probe them without credentials.
  assert.equal((await http(r.port, { method: 'GET', path: '/api/v1/versions' })).status, 200);
});

test('secret path: origins that cannot send headers register at /register/<secret>', async (t) => {
  const r = await startTestRegistry({ env: { PROXY_REGISTER_SECRET: 'p4th-secret' } });
  t.after(() => r.close());
  for (const path of [REGISTER, `${REGISTER}/wrong`, `${REGISTER}/p4th-secre`, `${REGISTER}/p4th-secret-x`]) {
    const res = await http(r.port, { path, body: SRS7_UPSTREAM_EXAMPLE });
    assert.equal(res.status, 401, path);
  }
  assert.equal((await r.balancer.listOrigins()).length, 0);
  const ok = await http(r.port, { path: `${REGISTER}/p4th-secret`, headers: { 'content-type': 'application/json' }, body: SRS7_UPSTREAM_EXAMPLE });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json(), { code: 0, pid: String(process.pid) });
  assert.equal((await r.balancer.listOrigins()).length, 1);
});

test('token and secret together: either one authenticates', async (t) => {
  const r = await startTestRegistry({ env: { PROXY_HTTP_API_AUTH_TOKEN: 'tok', PROXY_REGISTER_SECRET: 'sec' } });
  t.after(() => r.close());
  const body = (pid: string) => JSON.stringify({ ...JSON.parse(SRS7_UPSTREAM_EXAMPLE), pid });
  assert.equal((await http(r.port, { path: REGISTER, body: body('1') })).status, 401);
  assert.equal((await http(r.port, { path: REGISTER, headers: { authorization: 'Bearer tok' }, body: body('2') })).status, 200);
  assert.equal((await http(r.port, { path: `${REGISTER}/sec`, body: body('3') })).status, 200);
  assert.equal((await http(r.port, { path: `${REGISTER}/tok`, body: body('4') })).status, 401);
  assert.deepEqual((await r.balancer.listOrigins()).map((o) => o.origin.pid).sort(), ['2', '3']);
});
