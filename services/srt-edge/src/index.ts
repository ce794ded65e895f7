export { srtEdgeSchema } from './config.ts';
export {
  SrtEdge, HANDSHAKE_RETRY_MS, HOUSEKEEPING_MS, UDP_BUFFER_BYTES, REJECTION_LINGER_MS,
  type SrtEdgeConfig, type SrtEdgeOptions, type SrtEdgeStats,
} from './srt-edge.ts';
export {
  BAD_HANDSHAKE, BAD_STREAM_ID, SOCKET_ID_COLLISION,
  SrtHandshakeError, StreamIdError,
} from './errors.ts';
export { parseStreamId, streamUrlOf, type StreamIdInfo, type SrtMode } from './srt/stream-id.ts';
