import { f } from '@srs-proxy/runtime';

/** Settings of the srt-edge service; defaults are the Go proxy's. */
export const srtEdgeSchema = {
  listen: f.listen('PROXY_SRT_SERVER', '20080', 'SRT listener (UDP).'),
} as const;
