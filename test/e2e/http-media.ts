import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { requireBinary, spawnProcess, type Spawned } from '../support/index.ts';

/**
 * FFmpeg helpers shared by the http-edge end-to-end tests: a synthetic live source and a
 * bounded player that reports how many video frames it decoded.
 */

/** The spec's test source (12 §): 320x240 testsrc + 440 Hz sine, H.264 + AAC, 1 s GOP. */
export const SOURCE_ARGS = [
  '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k',
];

/** Publishes the test source over RTMP until stopped. */
export function publishRtmp(url: string): Spawned {
  return spawnProcess(requireBinary('ffmpeg'), ['-hide_banner', '-loglevel', 'error', ...SOURCE_ARGS, '-f', 'flv', url]);
}

/** Serves the test source as live HTTP-TS to one client at `http://127.0.0.1:<port><path>` (ffmpeg `-listen 1`). */
export function serveHttpTs(port: number, path: string, contentType: string): Spawned {
  return spawnProcess(requireBinary('ffmpeg'), [
    '-hide_banner', '-loglevel', 'error', ...SOURCE_ARGS, '-f', 'mpegts', '-content_type', contentType, '-listen', '1', `http://127.0.0.1:${port}${path}`,
  ]);
}

/**
 * Whether something listens on 127.0.0.1:`port`, read from /proc/net/tcp so that no connection
 * is made (ffmpeg's `-listen 1` server would take a probe connection as its only client).
 */
export function isListening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .some((l) => {
      const f = l.trim().split(/\s+/);
      return f[1]?.endsWith(`:${hex}`) && f[3] === '0A';
    });
}

/** A player gives up after this long: enough for a few seconds of live media plus start-up. */
const PLAY_TIMEOUT_MS = 25_000;

export interface PlayResult {
  frames: number;
  exitCode: number | null;
  output: string;
}

/**
 * Plays `url` (or a byte stream fed to stdin) with ffmpeg (decoding, output discarded) until `frames` video frames were decoded
 * or the timeout passes; returns the number of frames decoded (`-progress` counter).
 */
export async function decodeFrames(url: string | Readable, opts: { frames: number; inputArgs?: string[]; timeoutMs?: number }): Promise<PlayResult> {
  const fromStream = typeof url !== 'string';
  const proc = spawnProcess(
    requireBinary('ffmpeg'),
    [
      '-hide_banner', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1', ...(fromStream ? [] : ['-rw_timeout', '10000000']),
      ...(opts.inputArgs ?? []), '-i', fromStream ? 'pipe:0' : url, '-map', '0:v:0', '-frames:v', String(opts.frames), '-f', 'null', '-',
    ],
    { stdio: [fromStream ? 'pipe' : 'ignore', 'pipe', 'pipe'] },
  );
  if (fromStream) {
    // ffmpeg closes stdin once it has its frames; the source is then cut.
    proc.child.stdin!.on('error', () => {});
    url.on('error', () => {});
    url.pipe(proc.child.stdin!);
    void proc.exited.then(() => url.destroy());
  }
  const timer = setTimeout(() => void proc.stop('SIGKILL'), opts.timeoutMs ?? PLAY_TIMEOUT_MS);
  const exitCode = await proc.exited;
  clearTimeout(timer);
  const output = proc.output();
  const counts = [...output.matchAll(/^frame=(\d+)$/gm)].map((m) => Number(m[1]));
  return { frames: counts.length > 0 ? Math.max(...counts) : 0, exitCode, output };
}
