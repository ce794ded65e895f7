import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { requireBinary, spawnProcess, startProxy, waitFor } from '../support/index.ts';
import { startSrtReceiverOrigin } from '../support/srt-origin.ts';

/**
 * FFmpeg publishes a lavfi test source with libsrt through the standalone proxy's SRT port; the
 * origin (srt-live-transmit, registered through the System API) must receive decodable MPEG-TS.
 */
test('ffmpeg publishes through the SRT edge; the origin receives decodable MPEG-TS', async (t) => {
  await publishAndProbe(t, { seconds: 4, minFrames: 75, killerFirst: true });
});

test('an encrypted publish (passphrase) negotiates end to end through the edge', async (t) => {
  await publishAndProbe(t, { seconds: 2, minFrames: 35, passphrase: 'correct horse battery' });
});

async function publishAndProbe(
  t: import('node:test').TestContext,
  opts: { seconds: number; minFrames: number; passphrase?: string; killerFirst?: boolean },
): Promise<void> {
  const ffmpeg = requireBinary('ffmpeg');
  const ffprobe = requireBinary('ffprobe');
  const origin = await startSrtReceiverOrigin({ passphrase: opts.passphrase });
  t.after(() => origin.stop());
  const proxy = await startProxy();
  t.after(() => proxy.stop());
  const reg = await proxy.register(origin.heartbeatBody());
  assert.equal(reg.status, 200, reg.body);
  if (opts.killerFirst) await sendGoProxyKiller(proxy.ports.srt);
  const secret = opts.passphrase ? `&passphrase=${encodeURIComponent(opts.passphrase)}` : '';

  const pub = spawnProcess(ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=25:duration=${opts.seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${opts.seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    '-pes_payload_size', '0', '-f', 'mpegts',
    `srt://127.0.0.1:${proxy.ports.srt}?streamid=#!::r=live/x,m=publish&pkt_size=1316${secret}`,
  ]);
  t.after(() => pub.stop());
  const code = await pub.exited;
  assert.equal(code, 0, `publisher failed:\n${pub.output()}\n--- proxy ---\n${proxy.proc.output().slice(-4000)}`);
  // The origin stops once the caller's shutdown arrives through the proxy.
  await waitFor(() => origin.proc.exitCode !== null || origin.bytes() > 0, { timeoutMs: 5000, what: 'origin data' });
  await Promise.race([origin.exited, new Promise((r) => setTimeout(r, 3000))]);

  assert.ok(origin.bytes() > 20_000 * opts.seconds, `origin received only ${origin.bytes()} bytes`);
  const probe = spawnSync(ffprobe, ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', origin.file], { encoding: 'utf8' });
  assert.equal(probe.status, 0, probe.stderr);
  const streams = (JSON.parse(probe.stdout) as { streams: Array<{ codec_name: string; nb_read_frames?: string }> }).streams;
  const video = streams.find((s) => s.codec_name === 'h264');
  const audio = streams.find((s) => s.codec_name === 'aac');
  assert.ok(video && audio, `streams: ${probe.stdout}`);
  assert.ok(Number(video.nb_read_frames) >= opts.minFrames, `decoded ${video.nb_read_frames} video frames of ${opts.seconds * 25}`);

  const log = proxy.proc.output();
  assert.match(log, /SRT session established/);
  assert.match(log, /__defaultVhost__\/live\/x/);
  if (opts.killerFirst) assert.match(log, /extension-header-truncated/, 'the malformed conclusion was dropped and logged');
}

/**
 * Spec A14: a conclusion (with a valid cookie) whose extension area is 2 bytes, `\x00\x05`. It
 * panics the Go proxy; the publish that follows proves this proxy is still up.
 */
async function sendGoProxyKiller(port: number): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const induction = Buffer.alloc(64);
  induction.writeUInt32BE(0x80000000, 0);
  induction.writeUInt32BE(4, 16);
  induction.writeUInt32BE(2, 20);
  induction.writeUInt32BE(1500, 28);
  induction.writeUInt32BE(8192, 32);
  induction.writeUInt32BE(1, 36);
  induction.writeUInt32BE(0x1234, 40);
  const answer = new Promise<Buffer>((resolve) => sock.once('message', resolve));
  sock.send(induction, port, '127.0.0.1');
  const res = await answer;
  const conclusion = Buffer.concat([induction, Buffer.from([0x00, 0x05])]);
  conclusion.writeUInt32BE(5, 16);
  conclusion.writeUInt32BE(0xffffffff, 36);
  conclusion.writeUInt32BE(res.readUInt32BE(44), 44);
  await new Promise<void>((r) => sock.send(conclusion, port, '127.0.0.1', () => r()));
  await new Promise<void>((r) => sock.close(() => r()));
}
