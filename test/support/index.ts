export { freeTcpPort, freeUdpPort, freePort } from './ports.ts';
export { requireBinary, spawnProcess, waitFor, type Spawned } from './process.ts';
export { startRedis, startNats, type RunningServer } from './servers.ts';
