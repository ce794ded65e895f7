import { streamUrlFromRtmp } from '@srs-proxy/balancer';

/**
 * Pure parsers of an SRS origin's own HTTP API replies (`/api/v1/streams/`, `/api/v1/clients/`),
 * as the cluster API shows them. Origins are trusted to be SRS but not to be well formed: a reply
 * that is not `{code: 0, streams|clients: [...]}` is a SrsReplyError; items with missing fields
 * keep what they have (null), and every list is capped.
 */

/** Items asked for (SRS pages its lists, default 10) and kept per list; about 500 bytes each. */
export const MAX_LIVE_ITEMS = 1_000;
/** Strings copied from an origin's reply are cut here: they end up in JSON replies and the console. */
const MAX_TEXT = 512;

export class SrsReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SrsReplyError';
  }
}

export interface LiveStream {
  /** `<vhost>/<app>/<name>` as the proxy keys it. */
  stream_url: string;
  /** SRS's own stream id (clients name their stream by it). */
  id: string;
  app: string;
  name: string;
  /** Clients attached (publisher and players). */
  clients: number | null;
  publishing: boolean;
  kbps: { recv: number; send: number } | null;
  video: { codec: string; width: number | null; height: number | null } | null;
  audio: { codec: string; sample_rate: number | null; channels: number | null } | null;
}

export interface LiveClient {
  id: string;
  ip: string;
  /** SRS client type: `fmle-publish`, `flv-play`, `rtmp-play`, `hls-play`, `rtc-play`… */
  type: string;
  publish: boolean;
  stream_url: string | null;
  /** Seconds connected. */
  alive_s: number | null;
  kbps: { recv: number; send: number } | null;
}

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (o: Obj | undefined, k: string): string | null => (typeof o?.[k] === 'string' ? (o[k] as string).slice(0, MAX_TEXT) : null);
const num = (o: Obj | undefined, k: string): number | null => {
  const v = o?.[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

function kbps(o: Obj | undefined): { recv: number; send: number } | null {
  const k = obj(o?.kbps);
  const recv = num(k, 'recv_30s');
  const send = num(k, 'send_30s');
  return recv === null || send === null ? null : { recv, send };
}

/** SRS's default vhost, which the proxy's stream keys use too. */
const DEFAULT_VHOST = '__defaultVhost__';

/**
 * The proxy's key of a stream SRS lists: from its `tcUrl` and name when it has them (the vhost
 * rule is the proxy's), else the default vhost. SRS's `vhost` field is an internal id, not a name.
 */
function keyOf(o: Obj): string | null {
  const app = str(o, 'app');
  const name = str(o, 'name');
  const tcUrl = str(o, 'tcUrl');
  if (tcUrl !== null && name !== null) {
    try {
      return streamUrlFromRtmp(tcUrl, name);
    } catch {
      // Not a URL the proxy can key: fall back to the default vhost.
    }
  }
  return app === null || name === null ? null : `${DEFAULT_VHOST}/${app}/${name}`;
}

function listOf(body: unknown, key: string): Obj[] {
  const root = obj(body);
  if (root === undefined) throw new SrsReplyError('reply is not a JSON object');
  if (root.code !== 0) throw new SrsReplyError(`reply code ${JSON.stringify(root.code) ?? 'missing'}`);
  const list = root[key];
  if (!Array.isArray(list)) throw new SrsReplyError(`reply has no ${key} list`);
  return list.slice(0, MAX_LIVE_ITEMS).map(obj).filter((o): o is Obj => o !== undefined);
}

export function parseSrsStreams(body: unknown): LiveStream[] {
  return listOf(body, 'streams').map((s) => {
    const video = obj(s.video);
    const audio = obj(s.audio);
    return {
      stream_url: keyOf(s) ?? '',
      id: str(s, 'id') ?? '',
      app: str(s, 'app') ?? '',
      name: str(s, 'name') ?? '',
      clients: num(s, 'clients'),
      publishing: obj(s.publish)?.active === true,
      kbps: kbps(s),
      video: video === undefined ? null : { codec: str(video, 'codec') ?? '', width: num(video, 'width'), height: num(video, 'height') },
      audio: audio === undefined ? null : { codec: str(audio, 'codec') ?? '', sample_rate: num(audio, 'sample_rate'), channels: num(audio, 'channel') },
    };
  });
}

/**
 * Clients name their stream by SRS stream id; `streams` (parsed from the same origin's reply) maps
 * it to the stream URL; a client of a stream not in that list is keyed from its own tcUrl and name.
 */
export function parseSrsClients(body: unknown, streams: readonly LiveStream[] = []): LiveClient[] {
  const byId = new Map(streams.map((s) => [s.id, s.stream_url]));
  return listOf(body, 'clients').map((c) => {
    const sid = str(c, 'stream');
    return {
      id: str(c, 'id') ?? '',
      ip: str(c, 'ip') ?? '',
      type: str(c, 'type') ?? '',
      publish: c.publish === true,
      stream_url: (sid === null ? undefined : byId.get(sid)) ?? keyOf(c),
      alive_s: num(c, 'alive'),
      kbps: kbps(c),
    };
  });
}
