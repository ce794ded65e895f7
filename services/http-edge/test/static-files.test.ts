import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { createLogger, createMetricsRegistry, readConfig, ConfigError } from '@srs-proxy/runtime';
import { BusRegistryClient, InprocTransport } from '@srs-proxy/bus';
import { HttpEdge, httpEdgeSchema, BUNDLED_STATIC_DIR } from '../src/index.ts';
import { parseRange } from '../src/static-files.ts';
import { startHarness, rawRequest, type Harness } from './support.ts';

let h: Harness;
let root: string;
let outside: string;

before(async () => {
  const base = mkdtempSync(join(tmpdir(), 'srsp-static-'));
  root = join(base, 'www');
  outside = join(base, 'secret.txt');
  mkdirSync(join(root, 'players', 'js'), { recursive: true });
  mkdirSync(join(root, 'empty'));
  writeFileSync(join(root, 'index.html'), '<h1>root index</h1>');
  writeFileSync(join(root, 'players', 'index.html'), '<h1>players</h1>');
  writeFileSync(join(root, 'players', 'js', 'app.js'), 'console.log("0123456789")');
  writeFileSync(outside, 'TOP SECRET');
  symlinkSync(outside, join(root, 'players', 'leak.txt'));
  symlinkSync('/etc', join(root, 'etc-link'));
  h = await startHarness({ env: { PROXY_STATIC_FILES: root } });
});
after(async () => {
  await h.close();
  rmSync(join(root, '..'), { recursive: true, force: true });
});

test('files and index.html are served with type, length and Last-Modified, without CORS', async () => {
  const r = await request(`http://127.0.0.1:${h.port}/players/js/app.js`);
  assert.equal(r.statusCode, 200);
  assert.equal(await r.body.text(), 'console.log("0123456789")');
  assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(r.headers['content-length'], '25');
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  const lastModified = String(r.headers['last-modified']);
  const again = await request(`http://127.0.0.1:${h.port}/players/js/app.js`, { headers: { 'if-modified-since': lastModified } });
  await again.body.text();
  assert.equal(again.statusCode, 304);

  const idx = await request(`http://127.0.0.1:${h.port}/players/`);
  assert.equal(await idx.body.text(), '<h1>players</h1>');
  const redirect = await request(`http://127.0.0.1:${h.port}/players?x=1`);
  await redirect.body.text();
  assert.equal(redirect.statusCode, 301);
  assert.equal(redirect.headers.location, '/players/?x=1');
});

test('byte ranges: one range served as 206, an unsatisfiable one 416', async () => {
  const r = await request(`http://127.0.0.1:${h.port}/players/js/app.js`, { headers: { range: 'bytes=13-22' } });
  assert.equal(r.statusCode, 206);
  assert.equal(await r.body.text(), '0123456789');
  assert.equal(r.headers['content-range'], 'bytes 13-22/25');
  const bad = await request(`http://127.0.0.1:${h.port}/players/js/app.js`, { headers: { range: 'bytes=99-' } });
  await bad.body.text();
  assert.equal(bad.statusCode, 416);
  assert.deepEqual(parseRange('bytes=-5', 25), { start: 20, end: 24 });
  assert.equal(parseRange('bytes=5-1', 25), 'invalid');
  assert.equal(parseRange(undefined, 25), undefined);
});

test('no directory listing: a directory without index.html is a 404', async () => {
  const r = await request(`http://127.0.0.1:${h.port}/empty/`);
  assert.equal(r.statusCode, 404);
  assert.equal(await r.body.text(), '404 page not found\n');
});

test('path traversal is refused: dot segments, encoded dots and slashes, backslashes, symlinks out of the root', async () => {
  const attempts = [
    '/../secret.txt',
    '/players/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/players/%2e%2e/%2e%2e/secret.txt',
    '/..%5csecret.txt',
    '/players/..%5c..%5csecret.txt',
    '/players/leak.txt',
    '/etc-link/passwd',
    '/etc-link/hostname',
    '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/....//....//etc/passwd',
  ];
  for (const path of attempts) {
    const raw = await rawRequest(h.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
    assert.ok([301, 400, 403, 404].includes(status), `${path} → ${status}`);
    assert.ok(!raw.includes('TOP SECRET') && !raw.includes('root:'), `${path} leaked: ${raw.slice(0, 300)}`);
    if (status === 301) {
      // The Go router's redirect to the cleaned path: following it stays inside the root.
      const location = /\r\nlocation: ([^\r]*)/i.exec(raw)?.[1] ?? '';
      assert.ok(location.startsWith('/') && !decodeURIComponent(location).split('/').includes('..'), `${path} → ${location}`);
      const followed = await request(`http://127.0.0.1:${h.port}${location}`);
      const text = await followed.body.text();
      assert.ok(followed.statusCode === 404 || followed.statusCode === 200, `${location} → ${followed.statusCode}`);
      assert.ok(!text.includes('TOP SECRET') && !text.includes('root:'), `${location} leaked`);
    }
  }
});

test('the default directory is the bundled page, which exists', async () => {
  assert.equal(readConfig(httpEdgeSchema, {}).staticFiles, BUNDLED_STATIC_DIR);
  const h2 = await startHarness();
  try {
    const r = await request(`http://127.0.0.1:${h2.port}/`);
    assert.equal(r.statusCode, 200);
    assert.match(await r.body.text(), /srs-proxy HTTP stream server/);
  } finally {
    await h2.close();
  }
});

test('a missing or non-directory PROXY_STATIC_FILES fails start() promptly with a ConfigError naming it, nothing listening', async () => {
  const bus = new InprocTransport();
  const deps = { logger: createLogger({ service: 't', level: 'silent' }), metrics: createMetricsRegistry(), registry: new BusRegistryClient(bus, 1000) };
  for (const dir of ['/nonexistent/srsp-static', join(root, 'index.html')]) {
    const edge = new HttpEdge(deps, readConfig(httpEdgeSchema, { PROXY_HTTP_SERVER: '127.0.0.1:0', PROXY_STATIC_FILES: dir }));
    const started = Date.now();
    await assert.rejects(edge.start(), (err: unknown) => err instanceof ConfigError && err.variable === 'PROXY_STATIC_FILES' && err.message.includes(dir));
    assert.ok(Date.now() - started < 1000);
    assert.equal(edge.port, 0);
    await edge.close('test');
  }
  await bus.close();
});
