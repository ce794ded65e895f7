// Time from exec to /readyz 200 and idle RSS of the standalone proxy: the compiled bundle that
// production runs (`node services/proxy/dist/srs-proxy.js`) beside the TypeScript sources run
// through tsx (the dev path, and how the proxy ran before the build step). Same machine, same
// run, alternating, several rounds; prints medians.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freeProxyPorts, proxyPortEnv } from '@srs-proxy/test';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = `${ROOT}services/proxy/dist/srs-proxy.js`;
const SOURCE = `${ROOT}services/proxy/src/main.ts`;
/** Rounds per variant: enough for a stable median on a 2-core machine, short enough to run often. */
const ROUNDS = Number(process.env.SRSP_BENCH_ROUNDS ?? 5);
/** Idle time before RSS is read: lets start-up garbage be collected the way an idle pod would. */
const IDLE_MS = 3_000;
/** Upper bound on one start; a start that takes longer is reported as a failure. */
const READY_LIMIT_MS = 60_000;

interface Sample { readyMs: number; rssMb: number }

async function portsEnv(): Promise<Record<string, string>> {
  return { ...proxyPortEnv(await freeProxyPorts()), PROXY_LOG_LEVEL: 'warn' };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

async function once(args: string[]): Promise<Sample> {
  const env = { ...process.env, ...(await portsEnv()) };
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const url = `http://127.0.0.1:${env.PROXY_OPS_SERVER}/readyz`;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
      if (performance.now() - t0 > READY_LIMIT_MS) throw new Error('not ready in time');
      const ok = await fetch(url).then((r) => r.status === 200, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const readyMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return { readyMs, rssMb: rssMb(child.pid!) };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const variants: Array<{ name: string; args: string[] }> = [];
if (existsSync(BUNDLE)) variants.push({ name: 'compiled bundle (node)', args: [BUNDLE, 'standalone'] });
else console.log(`(no ${BUNDLE}: run \`pnpm build\` first to measure the production path)`);
variants.push({ name: 'sources through tsx (dev)', args: ['--import', 'tsx', SOURCE, 'standalone'] });

const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
for (let i = 0; i < ROUNDS; i++) {
  for (const v of variants) samples.get(v.name)!.push(await once(v.args));
}
console.log(`node ${process.version}, ${ROUNDS} rounds, RSS after ${IDLE_MS} ms idle`);
console.log('| standalone start | ready p50 (ms) | ready max (ms) | idle RSS p50 (MB) |');
console.log('|---|---|---|---|');
for (const v of variants) {
  const s = samples.get(v.name)!;
  console.log(`| ${v.name} | ${median(s.map((x) => x.readyMs)).toFixed(0)} | ${Math.max(...s.map((x) => x.readyMs)).toFixed(0)} | ${median(s.map((x) => x.rssMb)).toFixed(1)} |`);
}
