import { f, requireDuration, type Field } from '@srs-proxy/runtime';

/** A duration with no default: unset means "use the shared setting". */
function optionalDuration(env: string, doc: string): Field<number | undefined> {
  return { env, default: undefined, doc, secret: false, parse: (raw, v) => (raw === undefined ? undefined : requireDuration(v, raw)) };
}

/** Settings of the rtmp-edge service; the listener keeps the Go proxy's name and default. */
export const rtmpEdgeSchema = {
  listen: f.listen('PROXY_RTMP_SERVER', '11935', 'RTMP listener (TCP).'),
  idleTimeout: f.duration(
    'PROXY_RTMP_IDLE_TIMEOUT',
    '30s',
    'Close an RTMP session when no byte moved in either direction for this long (new; the Go proxy never times out). Encoders send data at least every second, players receive it.',
  ),
  handshakeTimeout: f.duration(
    'PROXY_RTMP_HANDSHAKE_TIMEOUT',
    '10s',
    'Bound on handshake + connect + publish/play from a new client (new). Real clients finish in well under a second; this cuts idle and slow-loris connections.',
  ),
  originConnectTimeout: optionalDuration(
    'PROXY_RTMP_ORIGIN_CONNECT_TIMEOUT',
    'RTMP only: overrides PROXY_ORIGIN_CONNECT_TIMEOUT (kept for configurations written before that shared setting). Unset: the shared value.',
  ),
} as const;
