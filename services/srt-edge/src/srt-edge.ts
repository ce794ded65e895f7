import type { ConfigOf } from '@srs-proxy/runtime';
import type { EdgeDeps } from '@srs-proxy/bus';
import type { srtEdgeSchema } from './config.ts';

export type SrtEdgeConfig = ConfigOf<typeof srtEdgeSchema>;

/** The srt-edge service. */
export class SrtEdge {
  private closed = false;
  port = 0;

  constructor(
    private readonly deps: EdgeDeps,
    private readonly config: SrtEdgeConfig,
  ) {}

  async start(): Promise<void> {
    this.deps.logger.info({ listen: this.config.listen }, 'srt-edge not built yet');
  }

  async close(_reason?: string): Promise<void> {
    this.closed = true;
  }
}
