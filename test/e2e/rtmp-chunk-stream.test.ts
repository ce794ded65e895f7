import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startNginxOrigin, startProxy, type NginxOrigin, type ProxyHandle } from '../support/index.ts';
import { RawRtmpClient } from '../../services/rtmp-edge/test/rtmp-client.ts';
import { commandMessage } from '../../services/rtmp-edge/src/rtmp/messages.ts';
import type { RtmpMessage } from '../../services/rtmp-edge/src/rtmp/message-types.ts';

/**
 * Chunk-layer behaviour end to end through nginx-rtmp: a publisher that raises its chunk size
 * before connect and twice in the middle of the stream (the Go proxy corrupts the stream there),
 * with extended timestamps, and a player through the edge that must receive every payload intact.
 * (Only increases: nginx-rtmp itself mis-parses data that shares a read with a Set Chunk Size that
 * lowers the size, with or without a proxy in between.)
 */
let origin: NginxOrigin;
let proxy: ProxyHandle;

before(async () => {
  origin = await startNginxOrigin();
  proxy = await startProxy();
  assert.equal((await proxy.register(origin.heartbeatBody())).status, 200);
});

after(async () => {
  await proxy?.stop();
  await origin?.stop();
});

function keyFrame(size: number): Buffer {
  const p = randomBytes(size);
  p[0] = 0x17; // AVC key frame: nginx starts players on it
  p[1] = 0x01; // NALU
  return p;
}

test('chunk-size changes before and during the relay, extended timestamps: payloads arrive intact', async () => {
  const tcUrl = `rtmp://127.0.0.1:${proxy.ports.rtmp}/live`;
  const pub = await RawRtmpClient.open(proxy.ports.rtmp);
  pub.conn.setChunkSize(4096); // before connect, like OBS
  const st = await pub.publish(tcUrl, 'chunks');
  assert.equal(st.code, 'NetStream.Publish.Start');

  const player = await RawRtmpClient.open(proxy.ports.rtmp);
  await player.connect(tcUrl);
  const sid = await player.createStream(2);
  player.send(commandMessage('play', 0, null, ['chunks'], sid, 8));
  await player.waitCommand((c) => c.name === 'onStatus' && (c.args[0] as { code?: string })?.code === 'NetStream.Play.Start', 'Play.Start');

  const sent: Buffer[] = [];
  const send = (ts: number, size: number) => {
    const payload = keyFrame(size);
    sent.push(payload);
    pub.send({ csid: 6, timestamp: ts, type: 9, streamId: st.streamId, payload });
  };
  let ts = 0xfffff0 - 200; // crosses into extended timestamps
  for (let i = 0; i < 10; i++) send((ts += 40), 10_000 + i * 1000);
  pub.conn.setChunkSize(60_000); // mid-stream, through the relay
  for (let i = 0; i < 10; i++) send((ts += 40), 100_000 + i);
  pub.conn.setChunkSize(65_536);
  for (let i = 0; i < 10; i++) send((ts += 40), 70_000 + i);

  const got: RtmpMessage[] = [];
  while (got.length < sent.length) {
    const m = await player.next().catch((e: Error) => { throw new Error(`${e.message} after ${got.length} messages\n${proxy.proc.output().split("\n").filter((l) => l.includes("rtmp")).slice(-6).join("\n")}\n${readFileSync(origin.dir + "/error.log", "utf8").split("\n").filter((l) => !l.includes("HLS")).slice(-15).join("\n")}`); });
    if (m.type === 9 && m.payload.length > 5) got.push(m);
  }
  assert.equal(got.length, sent.length);
  got.forEach((m, i) => assert.ok(m.payload.equals(sent[i]!), `video message ${i} differs`));
  // Timestamps keep rising across the extended boundary (nginx may rebase them, never reorder).
  for (let i = 1; i < got.length; i++) assert.ok(got[i]!.timestamp >= got[i - 1]!.timestamp, `timestamp ${i}`);
  pub.close();
  player.close();
});
