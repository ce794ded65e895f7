export { rtmpEdgeSchema } from './config.ts';
export { RtmpEdge, type RtmpEdgeConfig } from './rtmp-edge.ts';
