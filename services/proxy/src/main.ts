import { createLogger, loadDotEnv, readConfig, describeConfig, commonSchema, runProcess, EXIT_FATAL } from '@srs-proxy/runtime';
import { parseRole } from './roles.ts';
import { startProxy } from './start.ts';

/**
 * `srs-proxy [role]`: the standalone proxy (default) or one cluster service. Process env wins
 * over `.env` in the working directory (the Go proxy's precedence).
 */
const bootLogger = createLogger({ service: 'srs-proxy' });
let role;
let common;
try {
  role = parseRole(process.argv[2]);
  loadDotEnv(process.cwd());
  common = readConfig(commonSchema);
} catch (err) {
  bootLogger.fatal(`start-up failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(EXIT_FATAL);
}
const logger = createLogger({ service: role === 'standalone' ? 'srs-proxy' : `srs-proxy-${role}`, level: common.logLevel });
logger.info({ role, version: '1.5.0' }, 'SRSProxy/1.5.0 started');
logger.debug({ config: describeConfig(commonSchema) }, 'effective common configuration');
await runProcess({ logger, graceQuitMs: common.graceQuitTimeout, forceQuitMs: common.forceQuitTimeout }, () => startProxy(role, common, logger));
