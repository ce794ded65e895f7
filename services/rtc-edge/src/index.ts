export { rtcEdgeSchema } from './config.ts';
export { RtcEdge, type RtcEdgeConfig } from './rtc-edge.ts';
