import { ConfigError } from './errors.ts';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go duration string (`20s`, `1m30s`, `500ms`, `1.5h`) into milliseconds, as the Go
 * proxy's `PROXY_*_TIMEOUT` variables use it. Returns undefined when the text is not a duration.
 */
export function parseGoDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  if (s.length === 0 || s.length > 64) return undefined;
  const re = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let sign = 1;
  let body = s;
  if (body.startsWith('-') || body.startsWith('+')) {
    sign = body.startsWith('-') ? -1 : 1;
    body = body.slice(1);
  }
  re.lastIndex = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const m = re.exec(body);
    if (!m || m.index !== pos) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2]!] ?? NaN);
    pos = re.lastIndex;
  }
  if (!Number.isFinite(total)) return undefined;
  return sign * total;
}

export function requireDuration(variable: string, text: string): number {
  const ms = parseGoDuration(text);
  if (ms === undefined || ms < 0) {
    throw new ConfigError(variable, `time: invalid duration "${text}" (use Go syntax such as 20s, 1m30s, 500ms)`);
  }
  return ms;
}
