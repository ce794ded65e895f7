import type { EndpointKind, OriginRecord } from './origin.ts';

export interface SelectInput {
  candidates: readonly OriginRecord[];
  now: number;
  originTtlMs: number;
  protocol?: EndpointKind | undefined;
  avoid?: readonly string[] | undefined;
  /** Origin id → ms epoch until which it is penalised. */
  penalties?: ReadonlyMap<string, number> | undefined;
  random: () => number;
}

export function isAlive(origin: OriginRecord, now: number, originTtlMs: number): boolean {
  return now - origin.updated_at < originTtlMs;
}

/**
 * Placement for a stream with no valid mapping: a pure function of (candidates, now, options).
 * Only alive origins that expose the protocol and are not avoided qualify. Penalised origins are
 * used only when nothing else qualifies. Among the rest, uniform random like upstream.
 * Returns undefined when nothing qualifies.
 */
export function selectOrigin(input: SelectInput): OriginRecord | undefined {
  const avoid = new Set(input.avoid ?? []);
  const eligible = input.candidates.filter(
    (o) =>
      isAlive(o, input.now, input.originTtlMs) &&
      !avoid.has(o.id) &&
      (input.protocol === undefined || o[input.protocol].length > 0),
  );
  if (eligible.length === 0) return undefined;
  const healthy = eligible.filter((o) => (input.penalties?.get(o.id) ?? 0) <= input.now);
  const pool = healthy.length > 0 ? healthy : eligible;
  const idx = Math.min(pool.length - 1, Math.floor(input.random() * pool.length));
  return pool[idx];
}
