import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { allVariables, schemasByService, ROLES } from '@srs-proxy/proxy';
import { commonSchema, readConfig } from '@srs-proxy/runtime';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const known = new Set(allVariables());

/** Every env var a manifest sets must be one a service reads, and its value must parse. */
function checkEnv(where: string, env: Record<string, string>) {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('PROXY_')) continue;
    assert.ok(known.has(name), `${where}: ${name} is not read by any service`);
    for (const schema of Object.values(schemasByService)) {
      if (Object.values(schema).some((f) => f.env === name)) {
        assert.doesNotThrow(() => readConfig(schema, { [name]: String(value) }), `${where}: ${name}=${value} is invalid`);
      }
    }
  }
}

function listenPort(value: string): number {
  return Number(String(value).split(':').pop());
}

test('docker-compose services use known roles, valid env and matching ports', () => {
  const doc = parse(readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8'), { merge: true });
  const services = doc.services as Record<string, { command?: string[]; environment?: Record<string, string>; ports?: string[]; image?: string }>;
  for (const name of ['nats', 'redis', 'jaeger', 'registry', 'rtmp-edge', 'http-edge', 'rtc-edge', 'srt-edge']) {
    assert.ok(services[name], `compose service ${name} missing`);
  }
  let proxies = 0;
  for (const [name, svc] of Object.entries(services)) {
    if (svc.image !== 'srs-proxy:latest') continue;
    proxies++;
    const role = svc.command?.[0];
    assert.ok(role && (ROLES as readonly string[]).includes(role), `${name}: unknown role ${role}`);
    const env = svc.environment ?? {};
    checkEnv(`compose ${name}`, env);
    assert.ok(env.PROXY_NATS_URL, `${name}: cluster services need PROXY_NATS_URL`);
    assert.equal(env.PROXY_LOAD_BALANCER_TYPE, 'redis');
    const published = (svc.ports ?? []).map((p) => Number(String(p).split(':')[1]!.split('/')[0]));
    for (const [k, v] of Object.entries(env)) {
      if (/^PROXY_(RTMP_SERVER|HTTP_SERVER|HTTP_API|WEBRTC_SERVER|SRT_SERVER|SYSTEM_API)$/.test(k)) {
        assert.ok(published.includes(listenPort(v)), `${name}: ${k}=${v} is not published`);
      }
    }
  }
  assert.equal(proxies, 5);
  // Origins register with the registry service's System API port.
  const regPort = listenPort(services.registry!.environment!.PROXY_SYSTEM_API!);
  for (const origin of ['origin1', 'origin2']) {
    const url = services[origin]!.environment!.SRS_HEARTBEAT_URL!;
    assert.equal(new URL(url).port, String(regPort));
    assert.equal(new URL(url).pathname, '/api/v1/srs/register');
    assert.equal(services[origin]!.environment!.SRS_HEARTBEAT_PORTS, 'on');
  }
});

test('kubernetes manifests: one deployment per protocol, env and ports consistent', () => {
  const dir = join(DEPLOY, 'k8s');
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => ({ file: f, obj: d.toJS() })));
  const config = docs.find((d) => d.obj.kind === 'ConfigMap')!.obj.data as Record<string, string>;
  checkEnv('configmap', config);
  const deployments = new Map(docs.filter((d) => d.obj.kind === 'Deployment').map((d) => [d.obj.metadata.name as string, d.obj]));
  const servicesByName = new Map(docs.filter((d) => d.obj.kind === 'Service').map((d) => [d.obj.metadata.name as string, d.obj]));
  for (const role of ['registry', 'rtmp-edge', 'http-edge', 'rtc-edge', 'srt-edge']) {
    const dep = deployments.get(role);
    assert.ok(dep, `deployment ${role} missing`);
    const c = dep.spec.template.spec.containers[0];
    assert.deepEqual(c.args, [role]);
    const env = Object.fromEntries((c.env ?? []).map((e: { name: string; value: string }) => [e.name, e.value]));
    checkEnv(`k8s ${role}`, env);
    const containerPorts = new Map(c.ports.map((p: { name: string; containerPort: number; protocol?: string }) => [p.name, p]));
    assert.equal((containerPorts.get('ops') as { containerPort: number }).containerPort, listenPort(config.PROXY_OPS_SERVER!));
    const svc = servicesByName.get(role);
    assert.ok(svc, `service ${role} missing`);
    for (const sp of svc.spec.ports as { name: string; port: number; targetPort: number; protocol: string }[]) {
      const cp = containerPorts.get(sp.name) as { containerPort: number; protocol?: string } | undefined;
      assert.ok(cp, `${role}: service port ${sp.name} has no container port`);
      assert.equal(cp.containerPort, sp.targetPort);
      assert.equal(cp.protocol ?? 'TCP', sp.protocol);
      assert.ok(Object.values(env).map(listenPort).includes(sp.targetPort), `${role}: port ${sp.targetPort} not configured by env`);
    }
    // UDP listeners must be UDP in the Service, TCP ones TCP.
    for (const [k, v] of Object.entries(env)) {
      const udp = k === 'PROXY_WEBRTC_SERVER' || k === 'PROXY_SRT_SERVER';
      const sp = (svc.spec.ports as { targetPort: number; protocol: string }[]).find((p) => p.targetPort === listenPort(v as string));
      if (sp) assert.equal(sp.protocol, udp ? 'UDP' : 'TCP', `${role}: ${k} protocol`);
    }
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  }
});

test('Dockerfile exposes the default ports of every listener', () => {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  const expose = /EXPOSE (.+)/.exec(text)![1]!.split(/\s+/);
  const defaults = Object.values(schemasByService)
    .flatMap((s) => Object.values(s))
    .filter((f) => /^PROXY_(RTMP_SERVER|HTTP_SERVER|HTTP_API|WEBRTC_SERVER|SRT_SERVER|SYSTEM_API|OPS_SERVER)$/.test(f.env))
    .map((f) => ({ env: f.env, port: listenPort(f.default!) }));
  assert.equal(defaults.length, 7);
  for (const d of defaults) {
    const udp = d.env === 'PROXY_WEBRTC_SERVER' || d.env === 'PROXY_SRT_SERVER';
    assert.ok(expose.includes(udp ? `${d.port}/udp` : String(d.port)), `Dockerfile does not expose ${d.env} ${d.port}`);
  }
});

test('kubernetes drain: preStop, a grace period that outlasts preStop + force quit, a PDB, resources and a startup probe per service', () => {
  const dir = join(DEPLOY, 'k8s');
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()));
  const config = docs.find((d) => d.kind === 'ConfigMap')!.data as Record<string, string>;
  const cfg = readConfig(commonSchema, config);
  const pdbs = docs.filter((d) => d.kind === 'PodDisruptionBudget');
  for (const role of ['registry', 'rtmp-edge', 'http-edge', 'rtc-edge', 'srt-edge']) {
    const dep = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === role);
    const spec = dep.spec.template.spec;
    const c = spec.containers[0];
    const preStop = c.lifecycle?.preStop?.exec?.command as string[] | undefined;
    assert.ok(preStop && preStop[0] === 'sleep', `${role}: preStop sleep`);
    const preStopMs = Number(preStop[1]) * 1000;
    assert.ok(spec.terminationGracePeriodSeconds * 1000 > preStopMs + cfg.forceQuitTimeout, `${role}: grace period must outlast preStop + PROXY_FORCE_QUIT_TIMEOUT`);
    assert.ok(cfg.graceQuitTimeout + cfg.drainDelay < cfg.forceQuitTimeout, 'the drain ends before the force-quit watchdog');
    assert.equal(c.startupProbe.httpGet.path, '/healthz');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory, `${role}: resources`);
    const pdb = pdbs.find((p) => p.spec.selector.matchLabels.app === role);
    assert.ok(pdb, `${role}: PodDisruptionBudget`);
    assert.equal(pdb.spec.maxUnavailable, 1);
  }
});
