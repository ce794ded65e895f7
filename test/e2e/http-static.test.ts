import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { freeProxyPorts, proxyBundle, proxyPortEnv, spawnProcess, startProxy, type ProxyHandle } from '../support/index.ts';

/** Static player pages on the HTTP stream port of the real proxy process. */
let proxy: ProxyHandle;

before(async () => {
  proxy = await startProxy();
});
after(async () => {
  await proxy?.stop();
});

function raw(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.setTimeout(5_000, () => s.destroy(new Error(`no answer for ${path}`)));
    s.on('data', (b) => (out += b.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => resolve(out));
    s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

test('the bundled page is served by default', async () => {
  const r = await request(`http://127.0.0.1:${proxy.ports.http}/`);
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(await r.body.text(), /srs-proxy HTTP stream server/);
});

test('path traversal attempts are refused and never return files outside the directory', async () => {
  const attempts = [
    '/../../../../etc/passwd',
    '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/..%2f..%2f..%2f..%2fetc%2fpasswd',
    '/%252e%252e/%252e%252e/etc/passwd',
    '/..\\..\\..\\etc\\passwd',
    '/..%5c..%5c..%5cetc%5cpasswd',
    '/index.html/../../package.json',
    '/%00/../package.json',
    '/./../package.json',
  ];
  for (const path of attempts) {
    const out = await raw(proxy.ports.http, path);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1]);
    assert.ok([301, 400, 403, 404].includes(status), `${path} → ${status}`);
    assert.doesNotMatch(out, /root:x?:0:0|"name": ?"@srs-proxy/, `${path} leaked a file:\n${out.slice(0, 300)}`);
  }
});

test('PROXY_STATIC_FILES naming a missing directory stops start-up with exit 255 and a clear error', async () => {
  // Any free UDP ports do for the UDP listeners: this start fails before binding them.
  const ports = proxyPortEnv(await freeProxyPorts());
  const started = Date.now();
  const proc = spawnProcess(process.execPath, [proxyBundle()], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, ...ports, PROXY_STATIC_FILES: '/nonexistent/players' },
  });
  const killer = setTimeout(() => void proc.stop('SIGKILL'), 20_000);
  const code = await proc.exited;
  clearTimeout(killer);
  assert.equal(code, 255, proc.output());
  assert.match(proc.output(), /PROXY_STATIC_FILES[^\n]*\/nonexistent\/players[^\n]*does not exist/);
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
});
