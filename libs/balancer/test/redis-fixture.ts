import { before, after } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, type RunningServer } from '../../../test/support/index.ts';

export interface RedisFixture {
  /** The suite's private redis-server (valid inside tests). */
  readonly server: RunningServer;
  /** A plain client for inspecting keys and command statistics. */
  readonly admin: Redis;
}

/** A private redis-server plus an admin client for the enclosing suite, stopped after it. */
export function useRedis(): RedisFixture {
  let server: RunningServer | undefined;
  let admin: Redis | undefined;
  before(async () => {
    server = await startRedis();
    admin = new Redis({ port: server.port, host: '127.0.0.1' });
  });
  after(async () => {
    admin?.disconnect();
    await server?.stop();
  });
  return {
    get server() {
      return server!;
    },
    get admin() {
      return admin!;
    },
  };
}

/** Calls per command since the last CONFIG RESETSTAT, without the admin's own INFO/CONFIG. */
export async function commandStats(admin: Redis): Promise<Map<string, number>> {
  const info = await admin.info('commandstats');
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (m[1] === 'info' || m[1]!.startsWith('config')) continue;
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}
