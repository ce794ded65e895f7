import type { Balancer, BalancerOptions } from './balancer.ts';
import { MemoryBalancer } from './memory-balancer.ts';
import { RedisBalancer, type RedisConnection } from './redis-balancer.ts';

export interface BalancerConfig {
  /** `PROXY_LOAD_BALANCER_TYPE` */
  type: 'memory' | 'redis';
  /** Required for `redis`; ignored for `memory`. */
  redis?: RedisConnection;
  options?: Partial<BalancerOptions>;
}

/** The balancer the registry owns; call `init()` before use and `close()` on shutdown. */
export function createBalancer(cfg: BalancerConfig): Balancer {
  if (cfg.type === 'memory') return new MemoryBalancer(cfg.options ?? {});
  if (cfg.redis === undefined) throw new TypeError('createBalancer: type "redis" needs the redis connection settings');
  return new RedisBalancer(cfg.redis, cfg.options ?? {});
}
