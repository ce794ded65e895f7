import { isAlive } from './placement.ts';
import type { EndpointKind, OriginRecord } from './origin.ts';
import { MAX_PLACEMENT_BATCH, type PlacementClaim } from './balancer.ts';
import { PlacementBatchError } from './errors.ts';

/**
 * What to do with an existing stream → origin mapping, shared by both balancers so they fail over
 * identically (LiveKit-style re-validation on every reuse):
 * - `keep`: the origin is alive, not avoided, not reported failed for this stream, and serves the
 *   protocol;
 * - `replace`: the origin is gone, expired, avoided or failed for this stream: pick again;
 * - `no-protocol`: the origin is healthy but lacks the protocol's endpoint. The stream lives there
 *   (its publisher is on that origin), so moving the mapping would split publisher and players:
 *   the caller fails with NoOriginError instead.
 */
export type MappingVerdict = 'keep' | 'replace' | 'no-protocol';

export function mappingVerdict(
  origin: OriginRecord | undefined,
  ctx: { now: number; originTtlMs: number; protocol?: EndpointKind | undefined; avoid?: readonly string[] | undefined; failedForStream: boolean },
): MappingVerdict {
  if (origin === undefined) return 'replace';
  if (!isAlive(origin, ctx.now, ctx.originTtlMs)) return 'replace';
  if (ctx.failedForStream) return 'replace';
  if (ctx.avoid?.includes(origin.id)) return 'replace';
  if (ctx.protocol !== undefined && origin[ctx.protocol].length === 0) return 'no-protocol';
  return 'keep';
}

export function noOriginMessage(streamUrl: string, protocol: EndpointKind | undefined): string {
  return protocol === undefined ? `no server available for ${streamUrl}` : `no server with ${protocol} available for ${streamUrl}`;
}

/** Both balancers refuse the same batches, before touching any state. */
export function checkPlacementBatch(claims: readonly PlacementClaim[]): void {
  if (claims.length > MAX_PLACEMENT_BATCH) throw new PlacementBatchError(`${claims.length} placement claims in one batch; at most ${MAX_PLACEMENT_BATCH}`);
  for (const c of claims) {
    if (typeof c.stream_url !== 'string' || c.stream_url === '' || typeof c.origin_id !== 'string' || c.origin_id === '') {
      throw new PlacementBatchError('a placement claim needs a stream_url and an origin_id');
    }
  }
}
