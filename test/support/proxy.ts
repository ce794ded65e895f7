import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { freeTcpPort, freeUdpPort } from './ports.ts';
import { spawnProcess, waitFor, type Spawned } from './process.ts';
import { PORT_RACE_ATTEMPTS } from './servers.ts';
import { proxyBundle } from './proxy-build.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type ProxyRole = 'standalone' | 'registry' | 'rtmp-edge' | 'http-edge' | 'rtc-edge' | 'srt-edge';

export interface ProxyPorts {
  rtmp: number;
  http: number;
  api: number;
  webrtc: number;
  srt: number;
  system: number;
  ops: number;
}

export interface ProxyHandle {
  role: ProxyRole;
  ports: ProxyPorts;
  proc: Spawned;
  /** POST a register body to this process's System API (registry and standalone roles). */
  register(body: unknown, opts?: { path?: string; headers?: Record<string, string> }): Promise<{ status: number; body: string }>;
  /** SIGTERM, wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
}

/** Bounded wait for a spawned proxy to report ready: under 1 s idle, several on a starved machine. */
const PROXY_READY_TIMEOUT_MS = 30_000;

/** One free port per listener of the proxy (TCP or UDP as each listens). */
export async function freeProxyPorts(): Promise<ProxyPorts> {
  return {
    rtmp: await freeTcpPort(),
    http: await freeTcpPort(),
    api: await freeTcpPort(),
    webrtc: await freeUdpPort(),
    srt: await freeUdpPort(),
    system: await freeTcpPort(),
    ops: await freeTcpPort(),
  };
}

/** The PROXY_* variables that put every listener of a proxy process on `ports`. */
export function proxyPortEnv(ports: ProxyPorts): Record<string, string> {
  return {
    PROXY_RTMP_SERVER: String(ports.rtmp),
    PROXY_HTTP_SERVER: String(ports.http),
    PROXY_HTTP_API: String(ports.api),
    PROXY_WEBRTC_SERVER: String(ports.webrtc),
    PROXY_SRT_SERVER: String(ports.srt),
    PROXY_SYSTEM_API: String(ports.system),
    PROXY_OPS_SERVER: String(ports.ops),
  };
}

/**
 * Spawns the real proxy process (the compiled bundle production runs, `srs-proxy.js <role>`) on free ports and waits
 * until its /readyz answers 200. `env` overrides anything (e.g. PROXY_NATS_URL, Redis settings).
 */
export async function startProxy(opts: { role?: ProxyRole; env?: Record<string, string>; ports?: Partial<ProxyPorts> } = {}): Promise<ProxyHandle> {
  const role = opts.role ?? 'standalone';
  let started: { ports: ProxyPorts; proc: Spawned } | undefined;
  for (let attempt = 1; started === undefined; attempt++) {
    const ports: ProxyPorts = { ...(await freeProxyPorts()), ...opts.ports };
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...proxyPortEnv(ports),
      PROXY_LOG_LEVEL: process.env.PROXY_LOG_LEVEL ?? 'info',
      // Nothing routes by readiness here: stop at once unless a test is about the drain delay.
      PROXY_DRAIN_DELAY: '0s',
      ...opts.env,
    };
    const proc = spawnProcess(process.execPath, [proxyBundle(), role], { cwd: ROOT, env });
    try {
      await waitFor(
        async () => {
          const r = await request(`http://127.0.0.1:${ports.ops}/readyz`);
          await r.body.text();
          return r.statusCode === 200;
        },
        { timeoutMs: PROXY_READY_TIMEOUT_MS, intervalMs: 100, what: `${role} ready`, procs: [proc] },
      );
      started = { ports, proc };
    } catch (err) {
      await proc.stop('SIGKILL');
      // A port probed free was taken by another test process before the proxy bound it: retry on
      // fresh ports (only ports this helper chose; a caller's fixed port failing is the caller's).
      const raced = /EADDRINUSE/.test(proc.output()) && !opts.ports && attempt < PORT_RACE_ATTEMPTS;
      if (!raced) throw new Error(`${(err as Error).message}\n--- proxy output ---\n${proc.output()}`);
    }
  }
  const { ports, proc } = started;
  return {
    role,
    ports,
    proc,
    async register(body, o = {}) {
      const r = await request(`http://127.0.0.1:${ports.system}${o.path ?? '/api/v1/srs/register'}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(o.headers ?? {}) },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: r.statusCode, body: await r.body.text() };
    },
    stop: () => proc.stop('SIGTERM'),
  };
}
