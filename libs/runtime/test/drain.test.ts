import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { createLogger, runProcess, type Closable, type Drainable, type DrainAware } from '../src/index.ts';

/** Records what the shutdown did, in order, with the time since the signal. */
class Timeline {
  readonly events: Array<{ what: string; at: number }> = [];
  private t0 = performance.now();
  mark(): void {
    this.t0 = performance.now();
  }
  add(what: string): void {
    this.events.push({ what, at: performance.now() - this.t0 });
  }
  at(what: string): number {
    const e = this.events.find((x) => x.what === what);
    assert.ok(e, `no "${what}" in ${JSON.stringify(this.events.map((x) => x.what))}`);
    return e.at;
  }
  order(): string[] {
    return this.events.map((e) => e.what);
  }
}

class FakeEdge implements Drainable {
  activeSessions: number;
  accepting = true;
  constructor(
    private readonly tl: Timeline,
    sessions: number,
  ) {
    this.activeSessions = sessions;
  }
  stopAccepting(): void {
    this.accepting = false;
    this.tl.add('stop accepting');
  }
  close(reason?: string): void {
    this.tl.add(`close edge (${reason}) with ${this.activeSessions} live`);
    this.activeSessions = 0;
  }
}

class FakeOps implements Closable, DrainAware {
  ready = true;
  constructor(private readonly tl: Timeline) {}
  beginDrain(): void {
    this.ready = false;
    this.tl.add('not ready');
  }
  close(): void {
    this.tl.add('close ops');
  }
}

function quietLogger() {
  return createLogger({ service: 't', level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
}

async function shutdown(opts: { signal: 'SIGTERM' | 'SIGINT'; sessions: number; drainDelayMs: number; graceQuitMs: number; endSessionsAfterMs?: number }) {
  const tl = new Timeline();
  const signals = new EventEmitter();
  const ops = new FakeOps(tl);
  const edge = new FakeEdge(tl, opts.sessions);
  let exited: (code: number) => void = () => {};
  const exitCode = new Promise<number>((resolve) => (exited = resolve));
  await runProcess(
    {
      logger: quietLogger(),
      graceQuitMs: opts.graceQuitMs,
      forceQuitMs: 60_000,
      drainDelayMs: opts.drainDelayMs,
      signals,
      exit: (code) => {
        tl.add(`exit ${code}`);
        exited(code);
      },
    },
    // Start order as the proxy's: ops last, returned first so it closes last.
    async () => [ops, edge],
  );
  tl.mark();
  signals.emit(opts.signal, opts.signal);
  if (opts.endSessionsAfterMs !== undefined) {
    setTimeout(() => {
      tl.add('sessions ended');
      edge.activeSessions = 0;
    }, opts.endSessionsAfterMs);
  }
  return { tl, ops, edge, code: await exitCode };
}

test('SIGTERM: not ready at once, listeners open for the drain delay, sessions run to the deadline, then close and exit 0', async () => {
  const { tl, code } = await shutdown({ signal: 'SIGTERM', sessions: 2, drainDelayMs: 150, graceQuitMs: 600 });
  assert.equal(code, 0);
  assert.deepEqual(tl.order(), ['not ready', 'stop accepting', 'close edge (SIGTERM) with 2 live', 'close ops', 'exit 0']);
  assert.ok(tl.at('not ready') < tl.at('stop accepting'));
  assert.ok(tl.at('stop accepting') >= 150 - 5, `listeners closed after ${tl.at('stop accepting')} ms, before the drain delay`);
  assert.ok(tl.at('close edge (SIGTERM) with 2 live') >= 600 - 5, 'live sessions are not cut before the grace deadline');
});

test('a drain ends as soon as the last session ends, well before the deadline', async () => {
  const { tl, code } = await shutdown({ signal: 'SIGTERM', sessions: 1, drainDelayMs: 0, graceQuitMs: 60_000, endSessionsAfterMs: 100 });
  assert.equal(code, 0);
  assert.deepEqual(tl.order(), ['not ready', 'stop accepting', 'sessions ended', 'close edge (SIGTERM) with 0 live', 'close ops', 'exit 0']);
});

test('SIGINT (an operator at a terminal) skips the drain delay', async () => {
  const { tl, code } = await shutdown({ signal: 'SIGINT', sessions: 0, drainDelayMs: 30_000, graceQuitMs: 60_000 });
  assert.equal(code, 0);
  assert.deepEqual(tl.order(), ['not ready', 'stop accepting', 'close edge (SIGINT) with 0 live', 'close ops', 'exit 0']);
});

test('the drain delay never outlasts the grace deadline', async () => {
  const { tl, code } = await shutdown({ signal: 'SIGTERM', sessions: 1, drainDelayMs: 60_000, graceQuitMs: 200 });
  assert.equal(code, 0);
  assert.deepEqual(tl.order(), ['not ready', 'stop accepting', 'close edge (SIGTERM) with 1 live', 'close ops', 'exit 0']);
  assert.ok(tl.at('stop accepting') >= 200 - 5);
});
