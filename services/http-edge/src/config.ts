import { f } from '@srs-proxy/runtime';

/** Settings of the http-edge service; defaults are the Go proxy's. */
export const httpEdgeSchema = {
  listen: f.listen('PROXY_HTTP_SERVER', '18080', 'HTTP stream listener (HTTP-FLV, HTTP-TS, HLS, DASH, static files).'),
} as const;
