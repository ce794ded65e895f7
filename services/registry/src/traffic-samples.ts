import { kbpsBetween, trafficSample, type TrafficSample } from './origin-load.ts';

/**
 * Far above a real fleet (the balancer caps origins at 20 000 too); bounds memory when a register
 * flood invents origin ids.
 */
export const MAX_TRAFFIC_SAMPLES = 20_000;

/**
 * The last two traffic samples of each origin whose heartbeats this registry received, so the
 * cluster API can show kbit/s (SRS's heartbeat carries cumulative byte counters only). Behind a
 * load balancer each registry replica sees some of the heartbeats; any two samples of one origin
 * give a correct average over their interval.
 */
export class TrafficSamples {
  readonly #byOrigin = new Map<string, { older?: TrafficSample; newer: TrafficSample }>();

  observe(originId: string, summaries: unknown): void {
    const sample = trafficSample(summaries);
    if (sample === undefined) return;
    const prev = this.#byOrigin.get(originId);
    this.#byOrigin.delete(originId);
    // A repeat of the same sample (an origin re-sending its last summaries) keeps the interval.
    const entry = prev === undefined ? { newer: sample } : prev.newer.at_ms === sample.at_ms ? prev : { older: prev.newer, newer: sample };
    this.#byOrigin.set(originId, entry);
    if (this.#byOrigin.size > MAX_TRAFFIC_SAMPLES) this.#byOrigin.delete(this.#byOrigin.keys().next().value!);
  }

  kbps(originId: string): { recv: number; send: number } | null {
    const e = this.#byOrigin.get(originId);
    return e?.older === undefined ? null : kbpsBetween(e.older, e.newer);
  }

  forget(originId: string): void {
    this.#byOrigin.delete(originId);
  }
}
