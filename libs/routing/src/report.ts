import type { RegistryClient } from '@srs-proxy/bus';
import { errorMessage, withTimeout, type Logger } from '@srs-proxy/runtime';

/**
 * The one failure-report policy of every edge: awaited, but never longer than this. Awaiting
 * orders the report before the re-pick, so the registry drops the failed mapping (and tells every
 * edge's route cache) before it places the stream again; the bound keeps a slow registry from
 * eating the client's patience (an SRT caller gives up after 3 s for both attempts). The re-pick
 * carries the failed origin in `avoid`, so failover is correct even when the report is late.
 */
export const REPORT_TIMEOUT_MS = 500;

/** Reports `originId` failed for `streamUrl`; resolves within `boundMs` and never throws. */
export async function reportOriginFailure(
  registry: RegistryClient,
  originId: string,
  streamUrl: string,
  reason: string,
  log: Logger,
  boundMs = REPORT_TIMEOUT_MS,
): Promise<void> {
  const sent = registry.reportFailure(originId, streamUrl, reason).then(
    () => true,
    (err: unknown) => {
      log.warn({ origin: originId, err: errorMessage(err) }, 'could not report the origin failure to the registry');
      return false;
    },
  );
  if ((await withTimeout(sent, boundMs)) === undefined) {
    log.warn({ origin: originId, boundMs }, 'origin failure report unconfirmed; failing over anyway');
  }
}
