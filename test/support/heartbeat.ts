import { randomBytes } from 'node:crypto';

/** The register body an SRS origin sends (spec 3.7); endpoint lists as SRS formats them. */
export interface HeartbeatBody {
  device_id?: string;
  ip: string;
  server: string;
  service: string;
  pid: string;
  summaries?: unknown;
  rtmp: string[];
  http?: string[];
  api?: string[];
  srt?: string[];
  rtc?: string[];
}

let counter = 0;

/** A fresh SRS-like identity: server id `vid-…`, 8-char service id, pid string. */
export function newOriginIdentity(label: string): { server: string; service: string; pid: string } {
  counter++;
  return {
    server: `vid-${label}-${randomBytes(3).toString('hex')}`,
    service: randomBytes(4).toString('hex'),
    pid: String(process.pid * 100 + counter),
  };
}
