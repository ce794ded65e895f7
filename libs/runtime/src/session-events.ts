import { channel } from 'node:diagnostics_channel';

/**
 * Client sessions of the edges as named events (Node's diagnostics_channel): protocol code marks a
 * session once it knows the stream and direction, and closes the mark when the session ends. Who
 * listens (the edge announcer, for the cluster's players view) is none of the protocol code's
 * business; with no subscriber a mark costs one object and two checks.
 */
export const SESSION_CHANNEL = 'srsp:session';

export type SessionDirection = 'publish' | 'play';

export interface SessionEvent {
  type: 'open' | 'close';
  /** Unique in this process. */
  id: number;
  /** The edge role that holds the session (`rtmp-edge`…). */
  edge: string;
  /** What the client speaks: `rtmp`, `flv`, `ts`, `hls`, `dash`, `webrtc`, `srt`. */
  protocol: string;
  stream_url: string;
  direction: SessionDirection;
}

export interface SessionMark {
  /** Idempotent. */
  close(): void;
}

const sessions = channel(SESSION_CHANNEL);
let lastId = 0;

export function markSession(edge: string, protocol: string, stream_url: string, direction: SessionDirection): SessionMark {
  const open: SessionEvent = { type: 'open', id: ++lastId, edge, protocol, stream_url, direction };
  if (sessions.hasSubscribers) sessions.publish(open);
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      if (sessions.hasSubscribers) sessions.publish({ ...open, type: 'close' });
    },
  };
}
