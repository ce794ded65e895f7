/**
 * The load an origin reports in its heartbeat `summaries` (SRS `heartbeat { summaries on; }`, the
 * body of SRS's `/api/v1/summaries`), as the cluster API shows it. Pure: a value in, a view out;
 * anything missing or malformed is null, never an error, since summaries are free-form JSON.
 *
 * SRS reports CPU and memory as ratios (0.35 = 35 %); the view gives percentages.
 */
export interface OriginLoad {
  /** Host CPU, percent of all CPUs. */
  cpu_percent: number | null;
  /** The SRS process's CPU, percent of one core (SRS serves media on one thread). */
  srs_cpu_percent: number | null;
  /** 1-minute load average and the CPUs it is shared by. */
  load_1m: number | null;
  cpus: number | null;
  /** Host RAM in use, percent. */
  mem_percent: number | null;
  /** SRS process resident memory, KiB. */
  srs_mem_kbyte: number | null;
  /** Connections SRS holds (`conn_srs`). */
  connections: number | null;
  /** SRS traffic between the last two samples this registry saw, kbit/s; null until there are two. */
  kbps: { recv: number; send: number } | null;
}

/** A cumulative traffic counter reading of SRS (`srs_recv_bytes`, `srs_send_bytes` at `srs_sample_time`). */
export interface TrafficSample {
  at_ms: number;
  recv_bytes: number;
  send_bytes: number;
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function num(o: Obj | undefined, key: string): number | null {
  const v = o?.[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

function percent(ratio: number | null): number | null {
  return ratio === null ? null : Math.round(ratio * 1000) / 10;
}

/** `{data: {self, system}}` as SRS sends it, or the `data` object itself. */
function parts(summaries: unknown): { self: Obj | undefined; system: Obj | undefined } {
  const root = obj(summaries);
  const data = obj(root?.data) ?? root;
  return { self: obj(data?.self), system: obj(data?.system) };
}

/** The traffic counters of a summaries object, or undefined when it has none. */
export function trafficSample(summaries: unknown): TrafficSample | undefined {
  const { system } = parts(summaries);
  const at = num(system, 'srs_sample_time');
  const recv = num(system, 'srs_recv_bytes');
  const send = num(system, 'srs_send_bytes');
  if (at === null || recv === null || send === null) return undefined;
  return { at_ms: at, recv_bytes: recv, send_bytes: send };
}

/**
 * kbit/s between two samples of one origin; null when they are not in order or the counters went
 * back (an SRS restart resets them).
 */
export function kbpsBetween(older: TrafficSample, newer: TrafficSample): { recv: number; send: number } | null {
  const ms = newer.at_ms - older.at_ms;
  const recv = newer.recv_bytes - older.recv_bytes;
  const send = newer.send_bytes - older.send_bytes;
  if (!(ms > 0) || recv < 0 || send < 0) return null;
  // bytes * 8 / ms = bits per ms = kbit/s
  return { recv: Math.round((recv * 8) / ms), send: Math.round((send * 8) / ms) };
}

/** The load view of a summaries object; null when it carries none of the fields. */
export function originLoad(summaries: unknown, kbps: { recv: number; send: number } | null = null): OriginLoad | null {
  const { self, system } = parts(summaries);
  if (self === undefined && system === undefined) return null;
  return {
    cpu_percent: percent(num(system, 'cpu_percent')),
    srs_cpu_percent: percent(num(self, 'cpu_percent')),
    load_1m: num(system, 'load_1m'),
    cpus: num(system, 'cpus_online') ?? num(system, 'cpus'),
    mem_percent: percent(num(system, 'mem_ram_percent')),
    srs_mem_kbyte: num(self, 'mem_kbyte'),
    connections: num(system, 'conn_srs'),
    kbps,
  };
}
