import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import assert from 'node:assert/strict';
import { startRegistry, startEdge, type Cluster, type TestEdge } from './harness.ts';

/**
 * An HTTP server speaking SRS 6's WebRTC API wire format with the recorded SRS answer fixture
 * (fixtures/srs-answer.sdp): SRS itself is not available on this machine, and these tests are
 * about what the proxy does with SRS-shaped responses (ICE-TCP candidates, Location tokens,
 * legacy JSON). Media is exercised against the real node-datachannel origin in test/e2e.
 */
export const SRS_ANSWER = readFileSync(new URL('./fixtures/srs-answer.sdp', import.meta.url), 'utf8');
export const SRS_ANSWER_UFRAG = '0o7s4d72';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface ScriptedOrigin {
  port: number;
  requests: RecordedRequest[];
  /** Replaces the default SRS behaviour for the next requests. */
  respond: ((req: RecordedRequest) => { status: number; headers?: Record<string, string>; body: string }) | undefined;
  heartbeat(name: string, rtc?: string[]): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startScriptedOrigin(): Promise<ScriptedOrigin> {
  const requests: RecordedRequest[] = [];
  const origin: ScriptedOrigin = {
    port: 0,
    requests,
    respond: undefined,
    heartbeat: (name, rtc = ['udp://0.0.0.0:8000']) => ({ ip: '127.0.0.1', server: name, service: 'svc', pid: '1', rtmp: ['19350'], api: [String(origin.port)], rtc }),
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      requests.push(r);
      if (origin.respond) {
        const out = origin.respond(r);
        res.writeHead(out.status, out.headers ?? {}).end(out.body);
        return;
      }
      const url = new URL(r.url, 'http://x');
      if (r.method === 'POST' && (url.pathname === '/rtc/v1/whip/' || url.pathname === '/rtc/v1/whep/')) {
        const app = url.searchParams.get('app') ?? 'live';
        const stream = url.searchParams.get('stream') ?? 'livestream';
        const action = url.pathname === '/rtc/v1/whip/' ? 'whip' : 'whep';
        res.writeHead(201, {
          'content-type': 'application/sdp',
          location: `/rtc/v1/${action}/?action=delete&token=t0k3n&app=${app}&stream=${stream}&session=${SRS_ANSWER_UFRAG}:x`,
          'access-control-allow-origin': 'http://origin-only.example',
          server: 'SRS/6.0.156(Hang)',
        }).end(SRS_ANSWER);
      } else if (r.method === 'POST' && (url.pathname === '/rtc/v1/publish/' || url.pathname === '/rtc/v1/play/')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 0, server: 'vid-x', service: 'svc', pid: '1', sdp: SRS_ANSWER, sessionid: `${SRS_ANSWER_UFRAG}:x` }));
      } else if (r.method === 'DELETE') {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-srs-deleted': '1' }).end('');
      } else if (r.method === 'PATCH') {
        res.writeHead(204, { etag: '"v2"' }).end();
      } else {
        res.writeHead(404).end('not found');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  origin.port = typeof a === 'object' && a ? a.port : 0;
  return origin;
}

/** A minimal client offer, as a WHIP client posts it. */
export function offerSdp(ufrag = 'Cl1e', pwd = 'clientpasswordclientpw'): string {
  return ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', `a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`, 'a=setup:actpass', 'a=mid:0', 'a=sendonly', 'a=rtpmap:96 H264/90000', ''].join('\r\n');
}

/**
 * The signalling suites' fixture: an in-process registry, one rtc-edge and one scripted origin,
 * registered under `label` unless it is undefined; all closed after the suite.
 */
export function useSignallingFixture(label?: string): { readonly cluster: Cluster; readonly e: TestEdge; readonly origin: ScriptedOrigin } {
  let cluster: Cluster | undefined;
  let e: TestEdge | undefined;
  let origin: ScriptedOrigin | undefined;
  test.before(async () => {
    cluster = await startRegistry();
    e = await startEdge(cluster.client);
    origin = await startScriptedOrigin();
    if (label !== undefined) assert.equal(await cluster.register(origin.heartbeat(label)), 200);
  });
  test.after(async () => {
    await e?.close();
    await origin?.close();
    await cluster?.close();
  });
  return {
    get cluster() {
      return cluster!;
    },
    get e() {
      return e!;
    },
    get origin() {
      return origin!;
    },
  };
}
