import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import ndc, { type PeerConnection, type Track } from 'node-datachannel';
import { freeTcpPort, freeUdpPort } from './ports.ts';
import { newOriginIdentity, type HeartbeatBody } from './heartbeat.ts';

/**
 * A WHIP/WHEP origin for the tests, built on node-datachannel (libdatachannel + libjuice) and
 * behaving like an SRS origin where the proxy can tell:
 *  - HTTP API: `POST /rtc/v1/whip/?app=&stream=` and `/rtc/v1/whep/` (SDP in, 201 + SDP answer
 *    + SRS-style `Location: /rtc/v1/whip/?action=delete&token=…&session=…`), the legacy JSON
 *    `POST /rtc/v1/publish/` and `/rtc/v1/play/`, `DELETE` on the Location, `/api/v1/versions`;
 *  - one UDP port for every session (libjuice ICE UDP mux on a fixed port, as SRS's
 *    `rtc_server.listen`), announced in the answer as a host candidate;
 *  - it never dials the client: the offer's candidates are stripped before
 *    setRemoteDescription, so ICE only completes through whoever sends it STUN (the proxy);
 *  - media: RTP received on a WHIP session is counted and forwarded to every WHEP session of
 *    the same stream whose track is open.
 */

/** Bounded wait for libjuice to gather the mux candidate before answering. */
const GATHER_TIMEOUT_MS = 5_000;
/** Offers above this are refused (real ones are a few KB). */
const MAX_BODY_BYTES = 256 * 1024;

export type OriginSessionKind = 'whip' | 'whep';

export interface OriginSession {
  id: string;
  token: string;
  kind: OriginSessionKind;
  /** `app/stream` */
  stream: string;
  pc: PeerConnection;
  tracks: Track[];
  /** RTP packets received (WHIP) and sent to the player (WHEP). */
  rtpReceived: number;
  rtpSent: number;
  state: string;
  closed: boolean;
  /** ufrag of the origin's answer and of the client's offer. */
  answerUfrag: string;
  offerUfrag: string;
}

export interface WhipOrigin {
  name: string;
  apiPort: number;
  rtcPort: number;
  /** Registered because SRS always reports RTMP; nothing listens there. */
  rtmpPort: number;
  sessions: Map<string, OriginSession>;
  /** Every request the API received (method and URL). */
  requests: Array<{ method: string; url: string }>;
  /** The register body an SRS origin with these ports would send. */
  heartbeatBody(): HeartbeatBody;
  stop(): Promise<void>;
}

function stripCandidates(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((l) => !l.startsWith('a=candidate:'))
    .join('\r\n');
}

function iceUfrag(sdp: string): string {
  return /a=ice-ufrag:(\S+)/.exec(sdp)?.[1] ?? '';
}

function isRtcp(b: Buffer): boolean {
  return b.length >= 2 && b[1]! >= 200 && b[1]! <= 206;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startWhipOrigin(opts: { label?: string } = {}): Promise<WhipOrigin> {
  const identity = newOriginIdentity(opts.label ?? 'whip');
  const rtcPort = await freeUdpPort();
  const rtmpPort = await freeTcpPort();
  const sessions = new Map<string, OriginSession>();
  const requests: Array<{ method: string; url: string }> = [];

  const forward = (from: OriginSession, msg: Buffer) => {
    for (const s of sessions.values()) {
      if (s.kind !== 'whep' || s.closed || s.stream !== from.stream) continue;
      for (const t of s.tracks) {
        if (t.isOpen() && t.sendMessageBinary(msg)) s.rtpSent++;
      }
    }
  };

  const createSession = async (kind: OriginSessionKind, stream: string, offer: string): Promise<{ session: OriginSession; answer: string }> => {
    const id = randomBytes(6).toString('hex');
    const pc = new ndc.PeerConnection(`origin-${id}`, {
      iceServers: [],
      bindAddress: '127.0.0.1',
      enableIceUdpMux: true,
      portRangeBegin: rtcPort,
      portRangeEnd: rtcPort,
    });
    const session: OriginSession = {
      id, token: randomBytes(4).toString('hex'), kind, stream, pc, tracks: [], rtpReceived: 0, rtpSent: 0,
      state: 'new', closed: false, answerUfrag: '', offerUfrag: iceUfrag(offer),
    };
    pc.onStateChange((state) => {
      session.state = state;
      if (state === 'closed' || state === 'failed') session.closed = true;
    });
    pc.onTrack((track) => {
      session.tracks.push(track);
      if (kind === 'whip') {
        track.onMessage((msg) => {
          if (isRtcp(msg)) return;
          session.rtpReceived++;
          forward(session, msg);
        });
      }
    });
    pc.setRemoteDescription(stripCandidates(offer), 'offer');
    await new Promise<void>((resolve, reject) => {
      if (pc.gatheringState() === 'complete') return resolve();
      const t = setTimeout(() => reject(new Error('ICE gathering timed out')), GATHER_TIMEOUT_MS);
      pc.onGatheringStateChange((s) => {
        if (s === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
    const answer = pc.localDescription()?.sdp ?? '';
    session.answerUfrag = iceUfrag(answer);
    sessions.set(id, session);
    return { session, answer };
  };

  const closeSession = (s: OriginSession) => {
    if (s.closed && s.state === 'closed') return;
    s.closed = true;
    try {
      s.pc.close();
    } catch {
      /* already closed */
    }
  };

  const reply = (res: ServerResponse, status: number, headers: Record<string, string>, body: string) => {
    res.writeHead(status, headers).end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    const url = new URL(req.url ?? '/', 'http://origin');
    const path = url.pathname;
    if (path === '/api/v1/versions') return reply(res, 200, { 'content-type': 'application/json' }, JSON.stringify({ code: 0, server: identity.server, data: { version: '6.0.0-test' } }));
    const rtc = /^\/rtc\/v1\/(whip|whep)\/$/.exec(path);
    if (rtc && req.method === 'POST') {
      const kind = rtc[1] as OriginSessionKind;
      const app = url.searchParams.get('app') || 'live';
      const stream = url.searchParams.get('stream') || 'livestream';
      const offer = await readBody(req);
      if (!offer.includes('a=ice-ufrag:')) return reply(res, 400, { 'content-type': 'text/plain' }, 'no ice-ufrag in offer');
      const { session, answer } = await createSession(kind, `${app}/${stream}`, offer);
      const location = `/rtc/v1/${kind}/?action=delete&token=${session.token}&app=${encodeURIComponent(app)}&stream=${encodeURIComponent(stream)}&session=${session.id}`;
      return reply(res, 201, { 'content-type': 'application/sdp', location }, answer);
    }
    if (rtc && req.method === 'DELETE') {
      const s = sessions.get(url.searchParams.get('session') ?? '');
      if (!s || s.token !== url.searchParams.get('token')) return reply(res, 404, { 'content-type': 'text/plain' }, 'no such session');
      closeSession(s);
      return reply(res, 200, { 'content-type': 'text/plain' }, '');
    }
    const legacy = /^\/rtc\/v1\/(publish|play)\/$/.exec(path);
    if (legacy && req.method === 'POST') {
      const body = JSON.parse(await readBody(req)) as { sdp?: string; streamurl?: string };
      const streamUrl = new URL(body.streamurl ?? 'webrtc://localhost/live/livestream');
      const [app = 'live', stream = 'livestream'] = streamUrl.pathname.split('/').filter(Boolean);
      const { session, answer } = await createSession(legacy[1] === 'publish' ? 'whip' : 'whep', `${app}/${stream}`, body.sdp ?? '');
      return reply(res, 200, { 'content-type': 'application/json' }, JSON.stringify({
        code: 0, server: identity.server, service: identity.service, pid: identity.pid, sdp: answer, sessionid: `${session.answerUfrag}:${session.offerUfrag}`,
      }));
    }
    return reply(res, 404, { 'content-type': 'text/plain' }, 'not found');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, { 'content-type': 'text/plain' }, String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const a = server.address();
  const apiPort = typeof a === 'object' && a ? a.port : 0;

  return {
    name: identity.server,
    apiPort,
    rtcPort,
    rtmpPort,
    sessions,
    requests,
    heartbeatBody: () => ({
      ip: '127.0.0.1',
      ...identity,
      rtmp: [String(rtmpPort)],
      api: [String(apiPort)],
      rtc: [`udp://0.0.0.0:${rtcPort}`],
    }),
    async stop() {
      for (const s of sessions.values()) closeSession(s);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** RTP with an H.264 single-NAL-unit payload (RFC 6184): one packet per frame, marker set. */
export function h264RtpPacket(seq: number, ssrc: number, payloadType = 96, size = 1000): Buffer {
  const b = Buffer.alloc(12 + size);
  b[0] = 0x80;
  b[1] = 0x80 | payloadType;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 3000) >>> 0, 4); // 30 fps at 90 kHz
  b.writeUInt32BE(ssrc >>> 0, 8);
  b[12] = seq % 60 === 0 ? 0x65 : 0x41; // NAL header: IDR slice every 2 s, else non-IDR slice
  randomBytes(size - 1).copy(b, 13);
  return b;
}

/** Bounded waits of the WebRTC test clients. */
const CLIENT_GATHER_TIMEOUT_MS = 5_000;
const TRACK_OPEN_TIMEOUT_MS = 15_000;

export interface WebRtcClient {
  pc: PeerConnection;
  track: Track;
  offerUfrag: string;
  /** Status, headers and body of the signalling response. */
  status: number;
  location: string | undefined;
  answer: string;
  received: number;
  /** Resolves once DTLS-SRTP is up on the track (media can flow). */
  opened: Promise<void>;
  close(): void;
}

/**
 * A node-datachannel WHIP publisher (`kind: 'whip'`, sendonly H.264) or WHEP player
 * (`'whep'`, recvonly H.264) that signals at `url` (the proxy). Its offer carries its own host
 * candidate, which the origin strips: the only path is the one the answer names.
 */
export async function webrtcClient(
  kind: 'whip' | 'whep',
  url: string,
  opts: {
    ssrc?: number;
    /** Use the legacy SRS JSON API at `url` (…/rtc/v1/publish/ or …/play/) with this stream URL. */
    legacyStreamUrl?: string;
    /** Edit the answer before applying it (e.g. send UDP to another edge replica). */
    editAnswer?: (sdp: string) => string;
  } = {},
): Promise<WebRtcClient> {
  const pc = new ndc.PeerConnection(`${kind}-client`, { iceServers: [], bindAddress: '127.0.0.1' });
  const video = new ndc.Video('0', kind === 'whip' ? 'SendOnly' : 'RecvOnly');
  video.addH264Codec(96);
  if (kind === 'whip') video.addSSRC(opts.ssrc ?? 0x1234, 'srsp-test', 'stream', 'video');
  const track = pc.addTrack(video);
  const client = { pc, track, received: 0 } as WebRtcClient;
  track.onMessage((msg) => {
    if (!isRtcp(msg)) client.received++;
  });
  client.opened = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${kind} track did not open within ${TRACK_OPEN_TIMEOUT_MS} ms`)), TRACK_OPEN_TIMEOUT_MS);
    track.onOpen(() => {
      clearTimeout(t);
      resolve();
    });
  });
  client.opened.catch(() => undefined);
  pc.setLocalDescription();
  await new Promise<void>((resolve, reject) => {
    if (pc.gatheringState() === 'complete') return resolve();
    const t = setTimeout(() => reject(new Error('client ICE gathering timed out')), CLIENT_GATHER_TIMEOUT_MS);
    pc.onGatheringStateChange((s) => {
      if (s === 'complete') {
        clearTimeout(t);
        resolve();
      }
    });
  });
  const offer = pc.localDescription()?.sdp ?? '';
  client.offerUfrag = iceUfrag(offer);
  if (opts.legacyStreamUrl !== undefined) {
    const res = await fetch(url, { method: 'POST', body: JSON.stringify({ api: url, streamurl: opts.legacyStreamUrl, sdp: offer }), headers: { 'content-type': 'application/json' } });
    client.status = res.status;
    const json = (await res.json()) as { code?: number; sdp?: string };
    client.answer = json.code === 0 && typeof json.sdp === 'string' ? json.sdp : '';
  } else {
    const res = await fetch(url, { method: 'POST', body: offer, headers: { 'content-type': 'application/sdp' }, redirect: 'manual' });
    client.status = res.status;
    client.location = res.headers.get('location') ?? undefined;
    client.answer = await res.text();
  }
  if ((client.status === 201 || client.status === 200) && client.answer) {
    pc.setRemoteDescription(opts.editAnswer ? opts.editAnswer(client.answer) : client.answer, 'answer');
  }
  client.close = () => {
    try {
      pc.close();
    } catch {
      /* already closed */
    }
  };
  return client;
}
