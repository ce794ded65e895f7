/**
 * Joins concurrent loads of the same key: the first caller runs the load, every caller that
 * arrives before it settles gets the same promise. Holds one entry per load in flight, so its
 * size is bounded by the requests in progress; an entry is gone as soon as its load settles.
 */
export class Coalescer<K, V> {
  readonly #inFlight = new Map<K, Promise<V>>();

  /** Loads in progress. */
  get size(): number {
    return this.#inFlight.size;
  }

  /** `leader` is true for the caller whose `load` runs. */
  run(key: K, load: () => Promise<V>): { result: Promise<V>; leader: boolean } {
    const running = this.#inFlight.get(key);
    if (running) return { result: running, leader: false };
    const result = load().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, result);
    return { result, leader: true };
  }
}
