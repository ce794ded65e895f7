import { ENDPOINT_KINDS, formatHostPort, resolveEndpoints, type EndpointKind, type OriginStatus } from '@srs-proxy/balancer';
import { originLoad, type OriginLoad } from './origin-load.ts';

/** An origin as the cluster API shows it: resolved addresses, ages instead of raw epochs. */
export interface OriginView {
  id: string;
  ip: string;
  server: string;
  service: string;
  pid: string;
  device_id: string | null;
  /** Dialable `host:port` of each service the origin exposes. */
  addresses: Record<EndpointKind, string[]>;
  alive: boolean;
  /** ISO time of the last heartbeat, and how long ago it was. */
  last_heartbeat: string;
  heartbeat_age_ms: number;
  /** ISO time until which new streams avoid it after reported failures; null when not penalised. */
  penalized_until: string | null;
  /** Streams placed on it. */
  streams: number;
  /** From its heartbeat `summaries`; null when it sends none. */
  load: OriginLoad | null;
}

/** Pure: a balancer status, the registry's clock and the origin's kbps (TrafficSamples) → the view. */
export function originView(s: OriginStatus, now: number, kbps: { recv: number; send: number } | null): OriginView {
  const o = s.origin;
  const addresses = {} as Record<EndpointKind, string[]>;
  for (const kind of ENDPOINT_KINDS) {
    let list: string[];
    try {
      list = resolveEndpoints(o, kind).map((e) => formatHostPort(e.host, e.port));
    } catch {
      // Validated at registration; a record another writer stored may not be. Show it verbatim.
      list = [...o[kind]];
    }
    addresses[kind] = list;
  }
  return {
    id: o.id,
    ip: o.ip,
    server: o.server,
    service: o.service,
    pid: o.pid,
    device_id: o.device_id ?? null,
    addresses,
    alive: s.alive,
    last_heartbeat: new Date(o.updated_at).toISOString(),
    heartbeat_age_ms: Math.max(0, now - o.updated_at),
    penalized_until: s.penalized_until > now ? new Date(s.penalized_until).toISOString() : null,
    streams: s.streams,
    load: originLoad(o.summaries, kbps),
  };
}
