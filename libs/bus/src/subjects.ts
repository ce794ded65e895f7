/**
 * NATS subjects, versioned in their name: a breaking change to a message adds a `v2` subject and
 * registries answer both during a rollout.
 */
export const SUBJECT_PREFIX = 'srsp.v1';

export const subjects = {
  pick: `${SUBJECT_PREFIX}.registry.pick`,
  reportFailure: `${SUBJECT_PREFIX}.registry.report-failure`,
  hlsLoadOrStore: `${SUBJECT_PREFIX}.registry.hls.load-or-store`,
  hlsLoad: `${SUBJECT_PREFIX}.registry.hls.load`,
  rtcStore: `${SUBJECT_PREFIX}.registry.rtc.store`,
  rtcLoad: `${SUBJECT_PREFIX}.registry.rtc.load`,
  listOrigins: `${SUBJECT_PREFIX}.registry.origins.list`,
  /** One origin by id (a WHIP/WHEP resource request names the origin that created it). */
  getOrigin: `${SUBJECT_PREFIX}.registry.origins.get`,
  listStreams: `${SUBJECT_PREFIX}.registry.streams.list`,
  /** Placement leases: an edge's live publishers claim their streams' origins, batched (registry.streams.assert). */
  assertPlacements: `${SUBJECT_PREFIX}.registry.streams.assert`,
  /** Liveness of the registry for edge readiness: answered without touching the store. */
  ping: `${SUBJECT_PREFIX}.registry.ping`,
  /** Events (publish/subscribe, no reply). */
  originHeartbeat: `${SUBJECT_PREFIX}.events.origin.heartbeat`,
  streamPicked: `${SUBJECT_PREFIX}.events.stream.picked`,
  /** An edge reported that an origin failed for a stream (the registry dropped that mapping). */
  streamOriginFailed: `${SUBJECT_PREFIX}.events.stream.origin-failed`,
  originExpired: `${SUBJECT_PREFIX}.events.origin.expired`,
  /** Every running edge, every few seconds: who it is and what it serves (cluster API, console). */
  edgeAnnounce: `${SUBJECT_PREFIX}.events.edge.announce`,
} as const;

/** Queue group shared by registry replicas so each request is answered once. */
export const REGISTRY_QUEUE = 'srsp-registry';

export type RequestSubject =
  | typeof subjects.pick
  | typeof subjects.reportFailure
  | typeof subjects.hlsLoadOrStore
  | typeof subjects.hlsLoad
  | typeof subjects.rtcStore
  | typeof subjects.rtcLoad
  | typeof subjects.listOrigins
  | typeof subjects.getOrigin
  | typeof subjects.listStreams
  | typeof subjects.assertPlacements
  | typeof subjects.ping;

export type EventSubject = typeof subjects.originHeartbeat | typeof subjects.streamPicked | typeof subjects.streamOriginFailed | typeof subjects.originExpired | typeof subjects.edgeAnnounce;
