import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { requireBinary } from '../support/index.ts';
import { SOURCE_ARGS } from './http-media.ts';

/**
 * Long-lived media sessions for the control-plane fault tests: each reports a progress counter
 * that must keep growing and the error lines its client printed, which must stay empty.
 */
export interface LiveSession {
  name: string;
  /** Frames decoded / bytes or packets delivered so far. */
  progress(): number;
  /** Error lines the client printed so far (ffmpeg at -loglevel error prints only errors). */
  errors(): string[];
  /** Why the session is over, or undefined while it runs. */
  ended(): string | undefined;
  stop(): Promise<void>;
}

/** Cap on kept stderr: a client looping on an error must not grow test memory. */
const MAX_ERROR_LINES = 200;

function tracked(name: string, child: ChildProcess, progressOf: (line: string) => number | undefined): LiveSession & { child: ChildProcess } {
  let progress = 0;
  const errors: string[] = [];
  let ended: string | undefined;
  let partial = '';
  child.stdout?.on('data', (b: Buffer) => {
    const lines = (partial + b.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      const p = progressOf(l);
      if (p !== undefined) progress = p;
    }
  });
  let errPartial = '';
  child.stderr?.on('data', (b: Buffer) => {
    const lines = (errPartial + b.toString()).split('\n');
    errPartial = lines.pop() ?? '';
    for (const l of lines) if (l.trim() !== '' && errors.length < MAX_ERROR_LINES) errors.push(l);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = `exited with ${code ?? signal}`;
      resolve();
    });
  });
  return {
    name,
    child,
    progress: () => progress,
    errors: () => [...errors],
    ended: () => ended,
    async stop() {
      if (ended !== undefined) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const frameOf = (line: string) => {
  const m = /^frame=(\d+)/.exec(line);
  return m ? Number(m[1]) : undefined;
};

/** ffmpeg decoding `url` (RTMP, HTTP-FLV, HLS) to nowhere, reporting decoded frames. */
export function ffmpegPlayer(name: string, url: string): LiveSession {
  const child = spawn(requireBinary('ffmpeg'), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', url, '-map', '0:v', '-f', 'null', '-progress', 'pipe:1', '-nostats', '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return tracked(name, child, frameOf);
}

/** ffmpeg publishing the test source to `url` in `format` (flv for RTMP, mpegts for SRT), reporting encoded frames. */
export function ffmpegPublisher(name: string, url: string, format: 'flv' | 'mpegts'): LiveSession {
  const extra = format === 'mpegts' ? ['-pes_payload_size', '0'] : [];
  const child = spawn(requireBinary('ffmpeg'), ['-hide_banner', '-loglevel', 'error', '-nostdin', ...SOURCE_ARGS, ...extra, '-f', format, '-progress', 'pipe:1', '-nostats', url], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return tracked(name, child, frameOf);
}

/**
 * One GET, timed: the status, the Retry-After header and how long the answer took. With
 * `headOnly` the body is not read (an origin may hold a request for a stream that has not started).
 */
export async function timedGet(url: string, opts: { headOnly?: boolean } = {}): Promise<{ status: number; retryAfter: string | undefined; ms: number; body: string }> {
  const t0 = performance.now();
  const r = await request(url, { headersTimeout: 10_000, bodyTimeout: 10_000 });
  const ms = performance.now() - t0;
  if (opts.headOnly) {
    // We drop the body ourselves: the abort error undici then emits is ours, not the request's.
    r.body.once('error', () => undefined);
    r.body.destroy();
    return { status: r.statusCode, retryAfter: r.headers['retry-after'] as string | undefined, ms, body: '' };
  }
  // Only the head of a body matters here: an answered stream is live FLV that never ends. We stop
  // reading ourselves, so the abort that follows is expected and not an error of the request.
  const body = await new Promise<string>((resolve, reject) => {
    let text = '';
    r.body.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.length > 512) {
        resolve(text);
        r.body.destroy();
      }
    });
    r.body.once('end', () => resolve(text));
    r.body.once('error', (err) => (text.length > 512 ? resolve(text) : reject(err)));
  });
  return { status: r.statusCode, retryAfter: r.headers['retry-after'] as string | undefined, ms, body: body.slice(0, 512) };
}
