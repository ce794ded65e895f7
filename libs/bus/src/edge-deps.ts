import type { Logger, Registry } from '@srs-proxy/runtime';
import type { RegistryClient } from './registry-client.ts';

/**
 * What every edge receives from whoever starts it (standalone entry, cluster entry, tests).
 * Nothing is a module-level singleton.
 */
export interface EdgeDeps {
  logger: Logger;
  metrics: Registry;
  registry: RegistryClient;
}
