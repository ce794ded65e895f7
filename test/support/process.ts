import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * Fails (never skips) when a binary the suite needs is missing: a skipped end-to-end test proves
 * nothing, and .ci/run installs every one of them.
 */
export function requireBinary(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  if (r.status !== 0 || !path) throw new Error(`required binary "${name}" is not installed (run .ci/run or see README)`);
  return path;
}

export interface Spawned {
  child: ChildProcess;
  /** Everything the process wrote so far (stdout + stderr), capped. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

const MAX_CAPTURE = 1 << 20;

/** Spawns a process, captures its output, and kills it (then SIGKILL after 3 s) on stop. */
export function spawnProcess(cmd: string, args: string[], opts: SpawnOptions = {}): Spawned {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  const add = (b: Buffer) => {
    out += b.toString();
    if (out.length > MAX_CAPTURE) out = out.slice(out.length - MAX_CAPTURE);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  return {
    child,
    output: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Thrown from a waitFor callback: stop waiting at once (the thing waited for can no longer happen). */
export class WaitAbort extends Error {}

/**
 * Polls `fn` until it returns a truthy value or the deadline passes. An error from `fn` is retried
 * (a socket not listening yet) and named in the timeout message, except a WaitAbort, which fails
 * at once. A process in `procs` that exits fails the wait at once with its output: a dead child
 * must not cost the whole timeout.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string; procs?: Spawned[] } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const what = opts.what ?? 'condition';
  let last: unknown;
  for (;;) {
    for (const p of opts.procs ?? []) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) {
        throw new Error(`while waiting for ${what}: process ${p.child.spawnfile} exited (${p.child.exitCode ?? p.child.signalCode}):\n${p.output().slice(-4000)}`);
      }
    }
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      if (err instanceof WaitAbort) throw err;
      last = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
