import { f } from '@srs-proxy/runtime';

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
  originConnectTimeout: f.duration(
    'PROXY_RTMP_ORIGIN_CONNECT_TIMEOUT',
    '3s',
    'Bound on the TCP connect to an origin before it is reported failed and another is tried (new). A LAN origin answers in milliseconds.',
  ),
} as const;
