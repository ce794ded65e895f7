import { f } from '@srs-proxy/runtime';

/** Settings of the rtmp-edge service; defaults are the Go proxy's. */
export const rtmpEdgeSchema = {
  listen: f.listen('PROXY_RTMP_SERVER', '11935', 'RTMP listener (TCP).'),
} as const;
