import { ConfigError } from './errors.ts';
import { requireDuration } from './duration.ts';
import { parseListen, type ListenAddress } from './listen.ts';

/**
 * One environment variable: its name, default (applied when unset *or empty*, as upstream does),
 * parser and documentation. Every setting of every service is declared this way, so the README
 * table, the start-up echo and the deploy/ cross-checks all read the same source.
 */
export interface Field<T> {
  readonly env: string;
  /** Text default; undefined means "no default" (the parser receives undefined). */
  readonly default: string | undefined;
  readonly doc: string;
  readonly secret: boolean;
  parse(raw: string | undefined, variable: string): T;
}

export type Schema = Record<string, Field<unknown>>;
export type ConfigOf<S extends Schema> = { readonly [K in keyof S]: S[K] extends Field<infer T> ? T : never };

function field<T>(
  env: string,
  def: string | undefined,
  doc: string,
  parse: (raw: string | undefined, variable: string) => T,
  secret = false,
): Field<T> {
  return { env, default: def, doc, secret, parse };
}

function need(raw: string | undefined, variable: string): string {
  if (raw === undefined) throw new ConfigError(variable, 'is required');
  return raw;
}

export const f = {
  listen: (env: string, def: string, doc: string): Field<ListenAddress> =>
    field(env, def, doc, (raw, v) => parseListen(v, need(raw, v))),
  optionalListen: (env: string, doc: string): Field<ListenAddress | undefined> =>
    field(env, undefined, doc, (raw, v) => (raw === undefined ? undefined : parseListen(v, raw))),
  string: (env: string, def: string, doc: string): Field<string> => field(env, def, doc, (raw, v) => need(raw, v)),
  optionalString: (env: string, doc: string, secret = false): Field<string | undefined> =>
    field(env, undefined, doc, (raw) => raw, secret),
  secret: (env: string, doc: string): Field<string | undefined> => field(env, undefined, doc, (raw) => raw, true),
  int: (env: string, def: string | undefined, doc: string, min = 0, max = Number.MAX_SAFE_INTEGER): Field<number> =>
    field(env, def, doc, (raw, v) => {
      const s = need(raw, v);
      if (!/^-?\d+$/.test(s)) throw new ConfigError(v, `"${s}" is not an integer`);
      const n = Number(s);
      if (n < min || n > max) throw new ConfigError(v, `${n} is outside ${min}..${max}`);
      return n;
    }),
  optionalPort: (env: string, doc: string): Field<number | undefined> =>
    field(env, undefined, doc, (raw, v) => {
      if (raw === undefined) return undefined;
      if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
        throw new ConfigError(v, `"${raw}" is not a port number`);
      }
      return Number(raw);
    }),
  /** Go duration syntax (`20s`, `1m30s`, `500ms`), in milliseconds. */
  duration: (env: string, def: string, doc: string, minMs = 0, maxMs = Number.MAX_SAFE_INTEGER): Field<number> =>
    field(env, def, doc, (raw, v) => {
      const ms = requireDuration(v, need(raw, v));
      if (ms < minMs || ms > maxMs) throw new ConfigError(v, `${raw} is outside ${minMs}ms..${maxMs}ms`);
      return ms;
    }),
  /** Upstream convention: exactly `on` enables. We also accept true/1/yes for convenience. */
  onOff: (env: string, def: 'on' | 'off', doc: string): Field<boolean> =>
    field(env, def, doc, (raw, v) => {
      const s = need(raw, v).toLowerCase();
      if (['on', 'true', '1', 'yes'].includes(s)) return true;
      if (['off', 'false', '0', 'no'].includes(s)) return false;
      throw new ConfigError(v, `"${raw}" must be on or off`);
    }),
  oneOf: <T extends string>(env: string, def: T, values: readonly T[], doc: string): Field<T> =>
    field(env, def, doc, (raw, v) => {
      const s = need(raw, v);
      if (!(values as readonly string[]).includes(s)) {
        throw new ConfigError(v, `invalid value "${s}", expected one of ${values.join(', ')}`);
      }
      return s as T;
    }),
  url: (env: string, def: string | undefined, doc: string, protocols: string[]): Field<string | undefined> =>
    field(env, def, doc, (raw, v) => {
      if (raw === undefined) return undefined;
      for (const part of raw.split(',')) {
        let u: URL;
        try {
          u = new URL(part.trim());
        } catch {
          throw new ConfigError(v, `"${part}" is not a URL`);
        }
        if (!protocols.includes(u.protocol)) throw new ConfigError(v, `"${part}" must use ${protocols.join(' or ')}`);
      }
      return raw;
    }),
};

/** Reads a schema from an environment. Empty strings count as unset (upstream "set if empty"). */
export function readConfig<S extends Schema>(schema: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const given = env[spec.env];
    const raw = given === undefined || given === '' ? spec.default : given;
    out[key] = spec.parse(raw, spec.env);
  }
  return out as ConfigOf<S>;
}

/** Effective values for the start-up log line, with secrets masked. */
export function describeConfig(schema: Schema, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of Object.values(schema)) {
    const given = env[spec.env];
    const raw = given === undefined || given === '' ? spec.default : given;
    out[spec.env] = raw === undefined ? '' : spec.secret ? '******' : raw;
  }
  return out;
}

export function mergeSchemas<A extends Schema, B extends Schema>(a: A, b: B): A & B {
  return { ...a, ...b };
}
