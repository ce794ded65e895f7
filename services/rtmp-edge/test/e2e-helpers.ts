import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary, spawnProcess, type Spawned } from '../../../test/support/index.ts';

/** Size and codecs of the test clip every end-to-end RTMP test publishes. */
export const CLIP = { width: 320, height: 240, video: 'h264', audio: 'aac' } as const;

/**
 * A short FLV clip (lavfi testsrc + sine, libx264 ultrafast, aac) encoded once per machine, so
 * publishers can stream it with `-c copy` instead of each running an encoder on a shared CPU.
 */
export function testClip(seconds = 4): string {
  const dir = join(tmpdir(), 'srsp-rtmp-clips');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `testsrc-${CLIP.width}x${CLIP.height}-${seconds}s.flv`);
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp.flv`;
  const r = spawnSync(requireBinary('ffmpeg'), [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc=size=${CLIP.width}x${CLIP.height}:rate=25`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', tmp,
  ]);
  if (r.status !== 0) throw new Error(`ffmpeg could not make the test clip: ${r.stderr}`);
  spawnSync('mv', [tmp, file]);
  return file;
}

/** ffmpeg publishing the clip in real time, looped `loops` extra times. */
export function publishClip(url: string, opts: { loops?: number; realtime?: boolean } = {}): Spawned {
  const args = ['-hide_banner', '-loglevel', 'error'];
  if (opts.realtime !== false) args.push('-re');
  args.push('-stream_loop', String(opts.loops ?? 0), '-i', testClip(), '-c', 'copy', '-f', 'flv', url);
  return spawnProcess(requireBinary('ffmpeg'), args);
}

export interface ProbeResult {
  video?: { codec: string; width: number; height: number; frames: number };
  audio?: { codec: string; frames: number };
  output: string;
}

/** ffprobe decoding ~2 s of a stream: codecs, resolution and decoded frame counts. */
export async function probe(url: string, seconds = 2): Promise<ProbeResult> {
  const p = spawnProcess(requireBinary('ffprobe'), [
    '-hide_banner', '-v', 'error', '-rw_timeout', '8000000', '-count_frames', '-read_intervals', `%+${seconds}`,
    '-show_entries', 'stream=codec_type,codec_name,width,height,nb_read_frames', '-of', 'json', url,
  ]);
  const timer = setTimeout(() => void p.stop('SIGKILL'), 20_000);
  await p.exited;
  clearTimeout(timer);
  const out = p.output();
  const res: ProbeResult = { output: out };
  const start = out.indexOf('{');
  if (start < 0) return res;
  try {
    const json = JSON.parse(out.slice(start)) as { streams?: Array<Record<string, string | number>> };
    for (const s of json.streams ?? []) {
      const frames = Number(s.nb_read_frames ?? 0);
      if (s.codec_type === 'video') res.video = { codec: String(s.codec_name), width: Number(s.width), height: Number(s.height), frames };
      if (s.codec_type === 'audio') res.audio = { codec: String(s.codec_name), frames };
    }
  } catch {
    /* output kept for the assertion message */
  }
  return res;
}

export interface Callback {
  path: string;
  body: URLSearchParams;
  at: number;
}

/** A tiny HTTP server for nginx-rtmp `on_publish`/`on_play`: records each call, answers `status`. */
export async function callbackServer(status: (c: Callback) => number = () => 200): Promise<{ port: number; calls: Callback[]; url(path: string): string; close(): Promise<void> }> {
  const calls: Callback[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const c = { path: req.url ?? '', body: new URLSearchParams(body), at: Date.now() };
      calls.push(c);
      res.statusCode = status(c);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    calls,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
