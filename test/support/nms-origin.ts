import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './ports.ts';
import { spawnProcess, waitFor, type Spawned } from './process.ts';
import { newOriginIdentity, type HeartbeatBody } from './heartbeat.ts';
import { tcpOpen } from './servers.ts';

/** Where node-media-server 4 is installed (a dependency of this package). */
const NMS_ENTRY = createRequire(import.meta.url).resolve('node-media-server');

/** Bounded wait for NMS to open its two ports: it starts in well under a second. */
const NMS_READY_TIMEOUT_MS = 10_000;

/** A stream event NMS emitted (`postPlay`, `donePlay`, `postPublish`, `donePublish`). */
export interface NmsEvent {
  event: string;
  path: string;
  id: string;
  ip: string;
  /** The play/publish URL's query parameters as NMS parsed them. */
  query: Record<string, string>;
}

export interface NmsOrigin {
  rtmpPort: number;
  httpPort: number;
  proc: Spawned;
  /** Events seen so far, in order (parsed from the child's stdout). */
  events(): NmsEvent[];
  /** An SRS-style heartbeat body that registers this origin with the proxy. */
  heartbeatBody(): HeartbeatBody;
  stop(): Promise<void>;
}

/**
 * The child program: NMS v4 is configured by an object and keeps a process-global `Context`, so
 * each origin runs in its own process. It prints one `NMS-EVENT {json}` line per stream event.
 */
const CHILD = `
const NodeMediaServer = require(process.env.NMS_ENTRY);
const config = JSON.parse(process.env.NMS_CONFIG);
const nms = new NodeMediaServer(config);
for (const event of ['postPlay', 'donePlay', 'postPublish', 'donePublish']) {
  nms.on(event, (s) => console.log('NMS-EVENT ' + JSON.stringify({ event, path: s.streamPath, id: String(s.id), ip: String(s.ip), query: { ...(s.streamQuery || {}) } })));
}
nms.run();
const stop = () => { nms.stop().finally(() => process.exit(0)); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
`;

/**
 * A real HTTP-FLV origin: node-media-server 4 with RTMP ingest and HTTP-FLV playback
 * (`/<app>/<stream>.flv`) on free ports, bound to 127.0.0.1, no admin console, no recording,
 * its store in a private temporary directory.
 */
export async function startNmsOrigin(): Promise<NmsOrigin> {
  const rtmpPort = await freeTcpPort();
  const httpPort = await freeTcpPort();
  const dir = mkdtempSync(join(tmpdir(), 'srsp-nms-'));
  const config = {
    bind: '127.0.0.1',
    rtmp: { port: rtmpPort },
    http: { port: httpPort },
    store: { path: join(dir, 'data') },
    record: { auto: false, path: join(dir, 'record') },
    webadmin: { enable: false },
    notify: { url: '' },
  };
  const proc = spawnProcess(process.execPath, ['-e', CHILD], {
    env: { ...process.env, NMS_ENTRY, NMS_CONFIG: JSON.stringify(config) },
  });
  try {
    await waitFor(
      async () => {
        return (await tcpOpen(rtmpPort)) && (await tcpOpen(httpPort));
      },
      { timeoutMs: NMS_READY_TIMEOUT_MS, what: 'node-media-server origin', procs: [proc] },
    );
  } catch (err) {
    await proc.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  }
  const identity = newOriginIdentity('nms');
  return {
    rtmpPort,
    httpPort,
    proc,
    events: () =>
      proc
        .output()
        .split('\n')
        .filter((l) => l.startsWith('NMS-EVENT '))
        .map((l) => JSON.parse(l.slice('NMS-EVENT '.length)) as NmsEvent),
    heartbeatBody: () => ({
      device_id: 'node-media-server',
      ip: '127.0.0.1',
      ...identity,
      rtmp: [String(rtmpPort)],
      http: [String(httpPort)],
    }),
    async stop() {
      await proc.stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
