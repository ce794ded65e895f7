import { createLogger, loadDotEnv, readConfig, describeConfig, commonSchema, runProcess, EXIT_FATAL, PROXY_VERSION_STRING } from '@srs-proxy/runtime';
import { parseCommandLine, usage, EXIT_USAGE } from './command-line.ts';
import { startProxy } from './start.ts';

/**
 * `srs-proxy [role]`: the standalone proxy (default) or one cluster service. Process env wins
 * over `.env` in the working directory (the Go proxy's precedence).
 */
const command = parseCommandLine(process.argv.slice(2));
if (command.kind === 'help') {
  process.stdout.write(usage());
  process.exit(0);
}
if (command.kind === 'version') {
  process.stdout.write(`srs-proxy ${PROXY_VERSION_STRING}\n`);
  process.exit(0);
}
if (command.kind === 'error') {
  process.stderr.write(`srs-proxy: ${command.message}\n\n${usage()}`);
  process.exit(EXIT_USAGE);
}
const role = command.role;
const bootLogger = createLogger({ service: 'srs-proxy' });
let common;
try {
  loadDotEnv(process.cwd());
  common = readConfig(commonSchema);
} catch (err) {
  bootLogger.fatal(`start-up failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(EXIT_FATAL);
}
const logger = createLogger({ service: role === 'standalone' ? 'srs-proxy' : `srs-proxy-${role}`, level: common.logLevel });
logger.info({ role, version: PROXY_VERSION_STRING, node: process.version }, `SRSProxy/${PROXY_VERSION_STRING} started`);
logger.debug({ config: describeConfig(commonSchema) }, 'effective common configuration');
await runProcess({ logger, graceQuitMs: common.graceQuitTimeout, forceQuitMs: common.forceQuitTimeout, drainDelayMs: common.drainDelay }, () => startProxy(role, common, logger));
