export { srtEdgeSchema } from './config.ts';
export { SrtEdge, type SrtEdgeConfig } from './srt-edge.ts';
