export { httpEdgeSchema, BUNDLED_STATIC_DIR } from './config.ts';
export { HttpEdge, type HttpEdgeConfig, type HttpEdgeDeps } from './http-edge.ts';
export { DEFAULT_HTTP_EDGE_LIMITS, type HttpEdgeLimits } from './limits.ts';
export { rewritePlaylist, PlaylistError, BAD_PLAYLIST, type PlaylistRewrite } from './hls/playlist-rewrite.ts';
export { rewriteManifest, ManifestError, BAD_MANIFEST, type ManifestRewrite } from './dash/mpd-rewrite.ts';
export { route, streamKeyOf, cleanPath, type Route, type RouteKind, type StreamKind } from './route.ts';
export { SPBHID } from './uri-tag.ts';
