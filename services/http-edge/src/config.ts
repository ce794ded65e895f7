import { fileURLToPath } from 'node:url';
import { f } from '@srs-proxy/runtime';

/**
 * Default static directory: the page bundled with this package, so the default always exists
 * whatever the working directory (upstream's `../trunk/research` only exists inside an SRS
 * checkout, and its absence hung the Go proxy at start-up, spec 2.4).
 */
export const BUNDLED_STATIC_DIR = fileURLToPath(new URL('../static', import.meta.url));

/** Settings of the http-edge service; defaults are the Go proxy's where it has one. */
export const httpEdgeSchema = {
  listen: f.listen('PROXY_HTTP_SERVER', '18080', 'HTTP stream listener (HTTP-FLV, HTTP-TS, HLS, DASH, static files).'),
  staticFiles: f.string('PROXY_STATIC_FILES', BUNDLED_STATIC_DIR,
    'Directory of player pages served for non-stream paths (no listings, nothing outside it). Must exist: a missing directory stops start-up. Default: the page bundled with http-edge.'),
} as const;
