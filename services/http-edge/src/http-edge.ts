import type { ConfigOf } from '@srs-proxy/runtime';
import type { EdgeDeps } from '@srs-proxy/bus';
import type { httpEdgeSchema } from './config.ts';

export type HttpEdgeConfig = ConfigOf<typeof httpEdgeSchema>;

/** The http-edge service. */
export class HttpEdge {
  private closed = false;
  port = 0;

  constructor(
    private readonly deps: EdgeDeps,
    private readonly config: HttpEdgeConfig,
  ) {}

  async start(): Promise<void> {
    this.deps.logger.info({ listen: this.config.listen }, 'http-edge not built yet');
  }

  async close(_reason?: string): Promise<void> {
    this.closed = true;
  }
}
