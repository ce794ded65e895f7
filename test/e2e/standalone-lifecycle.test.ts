import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { startProxy, spawnProcess, freeProxyPorts, proxyPortEnv, proxyBundle } from '../support/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the proxy expecting it to exit by itself; returns code, output and how long it took. */
async function runToExit(env: Record<string, string>, role = 'standalone'): Promise<{ code: number | null; out: string; ms: number }> {
  return runArgsToExit(env, [role]);
}

async function runArgsToExit(env: Record<string, string>, args: string[]): Promise<{ code: number | null; out: string; ms: number }> {
  const ports = proxyPortEnv(await freeProxyPorts());
  const t0 = Date.now();
  const p = spawnProcess(process.execPath, [proxyBundle(), ...args], { cwd: ROOT, env: { ...process.env, ...ports, ...env } });
  const timer = setTimeout(() => void p.stop('SIGKILL'), 20_000);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, out: p.output(), ms: Date.now() - t0 };
}

test('standalone proxy starts, answers the System API and ops endpoints, and exits 0 on SIGTERM', async () => {
  const proxy = await startProxy();
  try {
    const v = await request(`http://127.0.0.1:${proxy.ports.system}/api/v1/versions`);
    assert.equal(v.statusCode, 200);
    assert.equal(v.headers.server, 'SRSProxy/1.5.0');
    assert.deepEqual(await v.body.json(), { signature: 'SRSProxy', version: '1.5.0' });

    const ok = await proxy.register({ ip: '127.0.0.1', server: 's1', service: 'v1', pid: '1', rtmp: ['19351'] });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).code, 0);
    const bad = await proxy.register({});
    assert.equal(bad.status, 400);
    assert.match(bad.body, /empty ip/);

    const health = await request(`http://127.0.0.1:${proxy.ports.ops}/healthz`);
    assert.equal(health.statusCode, 200);
    await health.body.text();
    const metrics = await request(`http://127.0.0.1:${proxy.ports.ops}/metrics`);
    assert.equal(metrics.statusCode, 200);
    assert.match(await metrics.body.text(), /process_cpu_user_seconds_total/);
  } finally {
    const t0 = Date.now();
    const code = await proxy.stop();
    assert.equal(code, 0, proxy.proc.output().slice(-2000));
    assert.ok(Date.now() - t0 < 5000, 'idle shutdown is prompt');
  }
  assert.match(proxy.proc.output(), /SRSProxy done/);
});

test('an invalid variable stops the process with exit 255 and names the variable', async () => {
  const r = await runToExit({ PROXY_LOAD_BALANCER_TYPE: 'mysql' });
  assert.equal(r.code, 255);
  assert.match(r.out, /PROXY_LOAD_BALANCER_TYPE/);
  const d = await runToExit({ PROXY_GRACE_QUIT_TIMEOUT: '20' });
  assert.equal(d.code, 255);
  assert.match(d.out, /PROXY_GRACE_QUIT_TIMEOUT: time: invalid duration \\?"20\\?"/);
});

test('a port already in use fails start-up promptly with the real error (no spin, spec 2.4)', async () => {
  const busy = createSocket('udp4');
  const port = await new Promise<number>((resolve) => busy.bind(0, () => resolve(busy.address().port)));
  try {
    const r = await runToExit({ PROXY_SRT_SERVER: String(port) });
    assert.equal(r.code, 255);
    assert.match(r.out, /EADDRINUSE/);
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
    assert.ok(r.out.length < 50_000, 'no log flood');
  } finally {
    busy.close();
  }
});

test('a missing static directory is a clear start-up error', async () => {
  const r = await runToExit({ PROXY_STATIC_FILES: '/nonexistent-srsp-static' });
  assert.equal(r.code, 255);
  assert.match(r.out, /PROXY_STATIC_FILES/);
});

test('a separate edge without PROXY_NATS_URL refuses to start', async () => {
  const r = await runToExit({}, 'rtmp-edge');
  assert.equal(r.code, 255);
  assert.match(r.out, /PROXY_NATS_URL/);
});

test('the command line: --help and --version exit 0, an unknown role prints usage and exits 2', async () => {
  const help = await runArgsToExit({}, ['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /usage: srs-proxy \[role\]/);
  for (const role of ['standalone', 'registry', 'rtmp-edge', 'http-edge', 'rtc-edge', 'srt-edge']) assert.match(help.out, new RegExp(`\\n  ${role} `));
  const version = await runArgsToExit({}, ['--version']);
  assert.equal(version.code, 0);
  assert.equal(version.out, 'srs-proxy 1.5.0\n');
  const unknown = await runArgsToExit({}, ['no-such-role']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.out, /unknown role "no-such-role"/);
  assert.match(unknown.out, /usage: srs-proxy/);
  const extra = await runArgsToExit({}, ['registry', 'rtmp-edge']);
  assert.equal(extra.code, 2);
});
