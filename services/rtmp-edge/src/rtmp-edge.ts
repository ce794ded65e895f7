import type { ConfigOf } from '@srs-proxy/runtime';
import type { EdgeDeps } from '@srs-proxy/bus';
import type { rtmpEdgeSchema } from './config.ts';

export type RtmpEdgeConfig = ConfigOf<typeof rtmpEdgeSchema>;

/** The rtmp-edge service. */
export class RtmpEdge {
  private closed = false;
  port = 0;

  constructor(
    private readonly deps: EdgeDeps,
    private readonly config: RtmpEdgeConfig,
  ) {}

  async start(): Promise<void> {
    this.deps.logger.info({ listen: this.config.listen }, 'rtmp-edge not built yet');
  }

  async close(_reason?: string): Promise<void> {
    this.closed = true;
  }
}
