import { ConfigError } from './errors.ts';

export interface ListenAddress {
  /** Undefined means all interfaces (IPv4 and IPv6). */
  host: string | undefined;
  port: number;
}

/**
 * Upstream listen rule: a value with no `:` is a port on all interfaces, otherwise `host:port`
 * (`[v6]:port` accepted). Port 0 asks the OS for a free port (tests use it).
 */
export function parseListen(variable: string, value: string): ListenAddress {
  const v = value.trim();
  let host: string | undefined;
  let portText: string;
  if (!v.includes(':')) {
    portText = v;
  } else if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0 || v[end + 1] !== ':') throw new ConfigError(variable, `invalid listen address "${value}"`);
    host = v.slice(1, end);
    portText = v.slice(end + 2);
  } else {
    const idx = v.lastIndexOf(':');
    host = v.slice(0, idx) || undefined;
    portText = v.slice(idx + 1);
    if (host?.includes(':')) throw new ConfigError(variable, `IPv6 listen hosts need brackets: "${value}"`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new ConfigError(variable, `invalid port in listen address "${value}"`);
  }
  return { host, port: Number(portText) };
}
