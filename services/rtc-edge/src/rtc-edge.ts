import type { ConfigOf } from '@srs-proxy/runtime';
import type { EdgeDeps } from '@srs-proxy/bus';
import type { rtcEdgeSchema } from './config.ts';

export type RtcEdgeConfig = ConfigOf<typeof rtcEdgeSchema>;

/** The rtc-edge service. */
export class RtcEdge {
  private closed = false;
  port = 0;

  constructor(
    private readonly deps: EdgeDeps,
    private readonly config: RtcEdgeConfig,
  ) {}

  async start(): Promise<void> {
    this.deps.logger.info({ listen: this.config.listen }, 'rtc-edge not built yet');
  }

  async close(_reason?: string): Promise<void> {
    this.closed = true;
  }
}
