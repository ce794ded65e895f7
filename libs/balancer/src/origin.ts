import { parseEndpoint, type Endpoint } from './endpoint.ts';
import { RegisterError } from './errors.ts';

/** The services an origin can expose; each maps to an endpoint list of the heartbeat. */
export type EndpointKind = 'rtmp' | 'http' | 'api' | 'srt' | 'rtc';
export const ENDPOINT_KINDS: readonly EndpointKind[] = ['rtmp', 'http', 'api', 'srt', 'rtc'];

/** DTO version of OriginRecord; bump when the shape changes, readers must accept older ones. */
export const ORIGIN_RECORD_VERSION = 1;

/**
 * One registered origin as stored (memory or Redis JSON) and sent over the bus. Endpoint lists
 * are kept verbatim as SRS reported them; `resolveEndpoint` turns them into addresses.
 */
export interface OriginRecord {
  v: number;
  /** `<server>-<service>-<pid>` */
  id: string;
  ip: string;
  server: string;
  service: string;
  pid: string;
  device_id?: string;
  rtmp: string[];
  http: string[];
  api: string[];
  srt: string[];
  rtc: string[];
  /** SRS `summaries` object, kept for load-aware placement. */
  summaries?: unknown;
  /** Last heartbeat, ms since epoch. */
  updated_at: number;
}

export function originId(server: string, service: string, pid: string): string {
  return `${server}-${service}-${pid}`;
}

/** Bounds that keep one register body from holding unbounded memory. */
export const MAX_ENDPOINTS_PER_KIND = 16;
export const MAX_FIELD_LENGTH = 256;

function str(body: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const v = body[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw new RegisterError(name, `empty ${name}`);
    return undefined;
  }
  if (typeof v !== 'string') throw new RegisterError(name, `${name} must be a string`);
  if (v.length > MAX_FIELD_LENGTH) throw new RegisterError(name, `${name} is longer than ${MAX_FIELD_LENGTH} characters`);
  if (/[\u0000-\u001f]/.test(v)) throw new RegisterError(name, `${name} contains control characters`);
  return v;
}

function endpoints(body: Record<string, unknown>, name: EndpointKind, ip: string, required: boolean): string[] {
  const v = body[name];
  if (v === undefined || v === null) {
    if (required) throw new RegisterError(name, `empty ${name}`);
    return [];
  }
  if (!Array.isArray(v)) throw new RegisterError(name, `${name} must be an array of strings`);
  if (required && v.length === 0) throw new RegisterError(name, `empty ${name}`);
  if (v.length > MAX_ENDPOINTS_PER_KIND) throw new RegisterError(name, `${name} has more than ${MAX_ENDPOINTS_PER_KIND} entries`);
  v.forEach((e, i) => {
    if (typeof e !== 'string') throw new RegisterError(`${name}[${i}]`, `${name}[${i}] must be a string`);
    try {
      parseEndpoint(e, ip);
    } catch (err) {
      throw new RegisterError(`${name}[${i}]`, `${name}[${i}]: ${(err as Error).message}`);
    }
  });
  return v as string[];
}

/**
 * Validates an SRS 5/6/7 heartbeat body (spec 3.2, 3.7) into a record. Errors name the field and
 * keep upstream's wording (`empty ip`, `empty rtmp`, …).
 */
export function parseRegisterBody(body: unknown, now: number): OriginRecord {
  if (body === undefined || body === null || body === '') body = {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new RegisterError('body', 'body must be a JSON object');
  const b = body as Record<string, unknown>;
  const ip = str(b, 'ip', true)!;
  if (!/^[A-Za-z0-9.\-_:]+$/.test(ip)) throw new RegisterError('ip', 'ip must be an IP address or host name');
  const server = str(b, 'server', true)!;
  const service = str(b, 'service', true)!;
  const pid = str(b, 'pid', true)!;
  const rtmp = endpoints(b, 'rtmp', ip, true);
  const record: OriginRecord = {
    v: ORIGIN_RECORD_VERSION,
    id: originId(server, service, pid),
    ip,
    server,
    service,
    pid,
    rtmp,
    http: endpoints(b, 'http', ip, false),
    api: endpoints(b, 'api', ip, false),
    srt: endpoints(b, 'srt', ip, false),
    rtc: endpoints(b, 'rtc', ip, false),
    updated_at: now,
  };
  const deviceId = str(b, 'device_id', false);
  if (deviceId !== undefined) record.device_id = deviceId;
  if (b.summaries !== undefined && b.summaries !== null) {
    if (typeof b.summaries !== 'object' || Array.isArray(b.summaries)) throw new RegisterError('summaries', 'summaries must be an object');
    record.summaries = b.summaries;
  }
  return record;
}

/** First endpoint of a kind resolved to a dialable address, or undefined when the origin has none. */
export function resolveEndpoint(origin: OriginRecord, kind: EndpointKind): Endpoint | undefined {
  const first = origin[kind][0];
  return first === undefined ? undefined : parseEndpoint(first, origin.ip);
}

/** Every endpoint of a kind (WebRTC answers are patched for all `rtc` ports). */
export function resolveEndpoints(origin: OriginRecord, kind: EndpointKind): Endpoint[] {
  return origin[kind].map((e) => parseEndpoint(e, origin.ip));
}
