import { EndpointError } from './errors.ts';

export type EndpointProto = 'tcp' | 'udp';

/** Where the proxy dials one origin service. */
export interface Endpoint {
  proto: EndpointProto | undefined;
  host: string;
  port: number;
}

const WILDCARDS = new Set(['', '0.0.0.0', '::', '[::]', '*']);

/**
 * Parses every endpoint form SRS reports in a heartbeat: `1935`, `:1935`, `tcp://:1935`,
 * `tcp://0.0.0.0:1935`, `udp://0.0.0.0:8000`, `tcp://[::1]:1935`, `127.0.0.1:1935`,
 * `[::1]:1935`. A wildcard or missing host means the origin's registered `ip` (what upstream always
 * dials); a specific host named in the endpoint is used as is.
 */
export function parseEndpoint(raw: string, originIp: string): Endpoint {
  if (typeof raw !== 'string') throw new EndpointError(`endpoint must be a string`);
  let s = raw.trim();
  if (s.length === 0 || s.length > 300) throw new EndpointError(`invalid endpoint "${raw}"`);
  let proto: EndpointProto | undefined;
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(s);
  if (schemeMatch) {
    const scheme = schemeMatch[1]!.toLowerCase();
    if (scheme !== 'tcp' && scheme !== 'udp') throw new EndpointError(`invalid endpoint "${raw}": unknown protocol ${scheme}`);
    proto = scheme;
    s = s.slice(schemeMatch[0].length);
  }
  let host: string;
  let portText: string;
  if (/^\d+$/.test(s)) {
    host = '';
    portText = s;
  } else if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') throw new EndpointError(`invalid endpoint "${raw}"`);
    host = s.slice(1, end);
    portText = s.slice(end + 2);
    if (host !== '::' && !/^[0-9a-fA-F:.]+$/.test(host)) throw new EndpointError(`invalid IPv6 host in endpoint "${raw}"`);
  } else {
    const idx = s.lastIndexOf(':');
    if (idx < 0) throw new EndpointError(`invalid endpoint "${raw}": no port`);
    host = s.slice(0, idx);
    portText = s.slice(idx + 1);
    if (host.includes(':')) throw new EndpointError(`invalid endpoint "${raw}": IPv6 hosts need brackets`);
    if (host !== '' && !/^[A-Za-z0-9.\-_*]+$/.test(host)) throw new EndpointError(`invalid host in endpoint "${raw}"`);
  }
  if (!/^\d{1,5}$/.test(portText)) throw new EndpointError(`invalid port in endpoint "${raw}"`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new EndpointError(`port out of range in endpoint "${raw}"`);
  const effectiveHost = WILDCARDS.has(host) ? originIp : host;
  return { proto, host: effectiveHost, port };
}

/** `host:port` with brackets for IPv6, for URLs and logs. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
