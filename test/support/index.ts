export { freeTcpPort, freeUdpPort, freePort } from './ports.ts';
export { requireBinary, spawnProcess, waitFor, WaitAbort, type Spawned } from './process.ts';
export { startRedis, startNats, tcpOpen, type RunningServer } from './servers.ts';
export { startProxy, freeProxyPorts, proxyPortEnv, type ProxyHandle, type ProxyPorts, type ProxyRole } from './proxy.ts';
export { startNginxOrigin, NGINX_RTMP_MODULE, type NginxOrigin, type NginxOriginOptions } from './nginx-origin.ts';
export { newOriginIdentity, type HeartbeatBody } from './heartbeat.ts';
export { seededRandom, fuzzSeed, withSeed } from './random.ts';
export { LogCapture, type LogLine } from './log-capture.ts';
export { proxyBundle, PROXY_BUNDLE } from './proxy-build.ts';
