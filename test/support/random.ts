/**
 * Deterministic PRNG (mulberry32) for fuzz and distribution tests: a failure reproduces from its
 * seed, and statistical checks cannot flake.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The fuzz seed: FUZZ_SEED when set (to replay a failure), else a fresh one. */
export function fuzzSeed(): number {
  return Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
}

/** Runs `fn`; a failure names the seed and how to replay it, whatever assertion failed. */
export async function withSeed<T>(seed: number, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Error && !err.message.includes(`FUZZ_SEED=${seed}`)) err.message = `${err.message} (replay with FUZZ_SEED=${seed})`;
    throw err;
  }
}
