export { httpEdgeSchema } from './config.ts';
export { HttpEdge, type HttpEdgeConfig } from './http-edge.ts';
