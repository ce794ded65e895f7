import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireBinary, spawnProcess, startProxy } from '../support/index.ts';
import { startSrtSenderOrigin } from '../support/srt-origin.ts';

/**
 * A player (ffmpeg with libsrt, `m=request`) reads through the standalone proxy from an origin
 * that serves a live stream on its SRT port, and decodes frames.
 */
test('a player with m=request decodes frames served by the origin through the SRT edge', async (t) => {
  const ffmpeg = requireBinary('ffmpeg');
  const origin = await startSrtSenderOrigin({ seconds: 20 });
  t.after(() => origin.stop());
  const proxy = await startProxy();
  t.after(() => proxy.stop());
  const reg = await proxy.register(origin.heartbeatBody());
  assert.equal(reg.status, 200, reg.body);

  const player = spawnProcess(ffmpeg, [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-progress', 'pipe:1',
    '-i', `srt://127.0.0.1:${proxy.ports.srt}?streamid=#!::h=live/y,m=request`,
    '-t', '3', '-f', 'null', '-',
  ]);
  t.after(() => player.stop());
  const code = await player.exited;
  const out = player.output();
  assert.equal(code, 0, `player failed:\n${out}\n--- proxy ---\n${proxy.proc.output().slice(-4000)}`);
  const frames = Math.max(0, ...[...out.matchAll(/^frame=(\d+)$/gm)].map((m) => Number(m[1])));
  assert.ok(frames > 0, `decoded ${frames} frames:\n${out}`);
  assert.ok(frames >= 50, `decoded only ${frames} frames in 3 s of 25 fps`);
  const log = proxy.proc.output();
  assert.match(log, /"mode":"request".*SRT session established/);
  assert.match(log, /__defaultVhost__\/live\/y/);
});
