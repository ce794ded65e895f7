import { BadMessageError, MESSAGE_VERSION, type EdgeAnnouncement, type EdgeStreamSessions } from '@srs-proxy/bus';
import { MAX_STREAM_URL_LENGTH } from './bus-requests.ts';

/**
 * The edges the registry has heard from (EdgeAnnouncement on `subjects.edgeAnnounce`), each
 * forgotten when its own `expires_in_ms` passes without a newer announcement, or at once when it
 * says it is gone. Every registry replica hears every announcement (no queue group), so each one
 * lists the whole fleet. The clock is injected.
 */

/** Far above a real fleet; stops a flood of invented edge ids from growing memory. */
export const MAX_EDGES = 2_000;
/** An announcement's own expiry is capped: an edge cannot ask to be listed for a day after it dies. */
export const MAX_EDGE_EXPIRY_MS = 5 * 60_000;
/** Per-announcement bounds (the announcer sends at most MAX_ANNOUNCED_STREAMS streams). */
const MAX_STREAMS = 1_000;
const MAX_TEXT = 256;
const MAX_LISTENERS = 8;

type Obj = Record<string, unknown>;

function text(m: Obj, name: string, max = MAX_TEXT): string {
  const v = m[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > max || /[\u0000-\u001f]/.test(v)) throw new BadMessageError(`${name} must be a string of 1..${max} printable characters`);
  return v;
}

function count(m: Obj, name: string): number {
  const v = m[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new BadMessageError(`${name} must be a non-negative integer`);
  return v;
}

/** Validates an announcement from the bus (pure). Any edge version may send one: nothing is trusted. */
export function parseEdgeAnnouncement(data: unknown): EdgeAnnouncement {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new BadMessageError('announcement must be a JSON object');
  const m = data as Obj;
  if (m.v !== MESSAGE_VERSION) throw new BadMessageError(`unsupported message version ${JSON.stringify(m.v) ?? 'undefined'}`);
  const listen: Record<string, string> = {};
  const rawListen = m.listen;
  if (typeof rawListen !== 'object' || rawListen === null || Array.isArray(rawListen) || Object.keys(rawListen).length > MAX_LISTENERS) {
    throw new BadMessageError(`listen must be an object of at most ${MAX_LISTENERS} addresses`);
  }
  for (const k of Object.keys(rawListen)) {
    if (!/^[a-z0-9-]{1,32}$/.test(k)) throw new BadMessageError('listen keys must be short protocol names');
    listen[k] = text(rawListen as Obj, k);
  }
  if (!Array.isArray(m.streams) || m.streams.length > MAX_STREAMS) throw new BadMessageError(`streams must be an array of at most ${MAX_STREAMS} entries`);
  const streams: EdgeStreamSessions[] = m.streams.map((s: unknown) => {
    if (typeof s !== 'object' || s === null) throw new BadMessageError('streams entries must be objects');
    const e = s as Obj;
    return { stream_url: text(e, 'stream_url', MAX_STREAM_URL_LENGTH), protocol: text(e, 'protocol', 32), publishers: count(e, 'publishers'), players: count(e, 'players') };
  });
  const a: EdgeAnnouncement = {
    v: MESSAGE_VERSION,
    id: text(m, 'id'),
    role: text(m, 'role', 32),
    version: text(m, 'version', 32),
    host: text(m, 'host'),
    listen,
    pid: count(m, 'pid'),
    sessions: count(m, 'sessions'),
    started_at: count(m, 'started_at'),
    at: count(m, 'at'),
    expires_in_ms: Math.min(MAX_EDGE_EXPIRY_MS, Math.max(1, count(m, 'expires_in_ms'))),
    streams,
  };
  if (m.streams_truncated === true) a.streams_truncated = true;
  if (m.gone === true) a.gone = true;
  return a;
}

/** An edge as the cluster API lists it. */
export interface EdgeView {
  id: string;
  role: string;
  version: string;
  host: string;
  listen: Record<string, string>;
  pid: number;
  sessions: number;
  uptime_s: number;
  /** ISO time of its last announcement, and how long ago the registry heard it. */
  last_seen: string;
  last_seen_age_ms: number;
  streams: number;
  publishers: number;
  players: number;
}

/** One edge's sessions on a stream, for the players view. */
export interface StreamSessionsOnEdge {
  edge_id: string;
  role: string;
  host: string;
  protocol: string;
  publishers: number;
  players: number;
}

interface Entry {
  a: EdgeAnnouncement;
  heardAt: number;
}

export class EdgeDirectory {
  readonly #edges = new Map<string, Entry>();

  constructor(private readonly now: () => number) {}

  /** Records an announcement (already validated). */
  observe(a: EdgeAnnouncement): void {
    this.#edges.delete(a.id);
    if (a.gone === true) return;
    this.#edges.set(a.id, { a, heardAt: this.now() });
    if (this.#edges.size > MAX_EDGES) this.#edges.delete(this.#edges.keys().next().value!);
  }

  /** Live entries, dropping the expired ones (judged by the registry's clock, not the edge's). */
  #live(): Entry[] {
    const now = this.now();
    const out: Entry[] = [];
    for (const [id, e] of this.#edges) {
      if (now - e.heardAt >= e.a.expires_in_ms) this.#edges.delete(id);
      else out.push(e);
    }
    return out;
  }

  list(): EdgeView[] {
    const now = this.now();
    return this.#live()
      .map(({ a, heardAt }) => ({
        id: a.id,
        role: a.role,
        version: a.version,
        host: a.host,
        listen: a.listen,
        pid: a.pid,
        sessions: a.sessions,
        uptime_s: Math.max(0, Math.round((a.at - a.started_at) / 1000)),
        last_seen: new Date(heardAt).toISOString(),
        last_seen_age_ms: now - heardAt,
        streams: a.streams.length,
        publishers: a.streams.reduce((n, s) => n + s.publishers, 0),
        players: a.streams.reduce((n, s) => n + s.players, 0),
      }))
      .sort((x, y) => (x.role === y.role ? x.id.localeCompare(y.id) : x.role.localeCompare(y.role)));
  }

  /** True when some live edge reports a publisher of the stream (it will re-assert its placement). */
  hasPublisher(streamUrl: string): boolean {
    for (const { a } of this.#live()) {
      for (const s of a.streams) if (s.publishers > 0 && s.stream_url === streamUrl) return true;
    }
    return false;
  }

  /** Sessions of one stream on every edge that reported it. */
  sessionsOf(streamUrl: string): StreamSessionsOnEdge[] {
    const out: StreamSessionsOnEdge[] = [];
    for (const { a } of this.#live()) {
      for (const s of a.streams) {
        if (s.stream_url === streamUrl) out.push({ edge_id: a.id, role: a.role, host: a.host, protocol: s.protocol, publishers: s.publishers, players: s.players });
      }
    }
    return out;
  }

  /** stream URL → its publishers and players summed over every edge (the streams view). */
  totals(): Map<string, { publishers: number; players: number; protocols: string[] }> {
    const out = new Map<string, { publishers: number; players: number; protocols: string[] }>();
    for (const { a } of this.#live()) {
      for (const s of a.streams) {
        let t = out.get(s.stream_url);
        if (t === undefined) {
          t = { publishers: 0, players: 0, protocols: [] };
          out.set(s.stream_url, t);
        }
        t.publishers += s.publishers;
        t.players += s.players;
        if (!t.protocols.includes(s.protocol)) t.protocols.push(s.protocol);
      }
    }
    return out;
  }

  /** Whether any edge reported streams it could not list (the players view may be incomplete). */
  truncated(): boolean {
    return this.#live().some((e) => e.a.streams_truncated === true);
  }
}
