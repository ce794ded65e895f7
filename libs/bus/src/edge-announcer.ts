import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { hostname } from 'node:os';
import { PROXY_VERSION_STRING, SESSION_CHANNEL, type Logger, type SessionEvent } from '@srs-proxy/runtime';
import { MESSAGE_VERSION, type EdgeAnnouncement, type EdgeStreamSessions } from './messages.ts';
import { subjects } from './subjects.ts';
import type { BusTransport } from './transport.ts';

/**
 * How often an edge announces itself. The console polls every few seconds, so a new edge or a
 * stopped stream shows within about one interval; 5 s of small messages per edge is nothing for NATS.
 */
export const EDGE_ANNOUNCE_INTERVAL_MS = 5_000;
/**
 * An edge is forgotten after this many intervals without an announcement: one lost message (a NATS
 * reconnect) does not drop it, a crashed edge leaves the list within 15 s.
 */
export const EDGE_MISSED_ANNOUNCEMENTS = 3;
/**
 * Stream entries per announcement: about 100 bytes each, so 100 KB at most, far below NATS's 1 MiB
 * payload limit. An edge with more streams reports the first ones and `streams_truncated`.
 */
export const MAX_ANNOUNCED_STREAMS = 1_000;

export interface EdgeIdentity {
  /** `rtmp-edge`, `http-edge`, `rtc-edge`, `srt-edge`. */
  role: string;
  /** Its listeners, e.g. `{ rtmp: '0.0.0.0:11935' }`. */
  listen: Record<string, string>;
  /** Sessions (or in-flight requests) the edge holds now. */
  sessions: () => number;
}

export interface EdgeAnnouncerDeps {
  bus: BusTransport;
  logger: Logger;
  now?: () => number;
  /** Tests shrink it; default EDGE_ANNOUNCE_INTERVAL_MS. */
  intervalMs?: number;
}

/**
 * Publishes an edge's EdgeAnnouncement on `subjects.edgeAnnounce` at start, every interval, and a
 * `gone` one at close. The per-stream tallies come from the session marks (markSession) of its own
 * role, heard on SESSION_CHANNEL; several edges in one process (standalone) each count their own.
 */
export class EdgeAnnouncer {
  readonly id: string;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #startedAt: number;
  /** Open sessions of this edge: id → event. */
  readonly #open = new Map<number, SessionEvent>();
  readonly #onSession = (msg: unknown): void => {
    const e = msg as SessionEvent;
    if (e.edge !== this.identity.role) return;
    if (e.type === 'open') this.#open.set(e.id, e);
    else this.#open.delete(e.id);
  };
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly deps: EdgeAnnouncerDeps,
    private readonly identity: EdgeIdentity,
  ) {
    this.#now = deps.now ?? Date.now;
    this.#intervalMs = deps.intervalMs ?? EDGE_ANNOUNCE_INTERVAL_MS;
    this.#startedAt = this.#now();
    this.id = `${hostname()}/${identity.role}/${process.pid}`;
    subscribe(SESSION_CHANNEL, this.#onSession);
  }

  start(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#announce(false);
    this.#timer = setInterval(() => this.#announce(false), this.#intervalMs);
    this.#timer.unref();
  }

  /** What would be announced now. */
  announcement(gone = false): EdgeAnnouncement {
    const tally = new Map<string, EdgeStreamSessions>();
    for (const e of this.#open.values()) {
      const key = `${e.protocol}\n${e.stream_url}`;
      let t = tally.get(key);
      if (t === undefined) {
        t = { stream_url: e.stream_url, protocol: e.protocol, publishers: 0, players: 0 };
        tally.set(key, t);
      }
      if (e.direction === 'publish') t.publishers++;
      else t.players++;
    }
    const streams = [...tally.values()];
    const a: EdgeAnnouncement = {
      v: MESSAGE_VERSION,
      id: this.id,
      role: this.identity.role,
      version: PROXY_VERSION_STRING,
      host: hostname(),
      listen: this.identity.listen,
      pid: process.pid,
      sessions: this.identity.sessions(),
      started_at: this.#startedAt,
      at: this.#now(),
      expires_in_ms: this.#intervalMs * EDGE_MISSED_ANNOUNCEMENTS,
      streams: streams.slice(0, MAX_ANNOUNCED_STREAMS),
    };
    if (streams.length > MAX_ANNOUNCED_STREAMS) a.streams_truncated = true;
    if (gone) a.gone = true;
    return a;
  }

  #announce(gone: boolean): void {
    try {
      this.deps.bus.publish(subjects.edgeAnnounce, this.announcement(gone));
    } catch (err) {
      // NATS down: the next interval tries again; the registry keeps the last one until it expires.
      this.deps.logger.debug({ err }, 'edge announcement not published');
    }
  }

  /** Idempotent: stops announcing and tells the registry the edge is gone. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    unsubscribe(SESSION_CHANNEL, this.#onSession);
    if (this.#timer !== undefined) this.#announce(true);
  }
}
