import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildInductionRequest, buildInductionResponse, buildRejection, buildSrtHs, decodeSwappedString, encodeSwappedString, ExtensionType,
  findExtension, HANDSHAKE_SIZE, HandshakeType, isRejection, MAX_EXTENSIONS, parseHandshake, parseSrtHs, RejectReason, serializeHandshake,
  SRT_MAGIC, srtHsOf, streamIdOf, withCookie, type Handshake,
} from '../src/srt/handshake.ts';
import { SrtHandshakeError } from '../src/errors.ts';

// Captured from ffmpeg 5.1 / libsrt 1.5.1 publishing to `#!::r=live/x,m=publish` with latency
// 200 ms and a passphrase (so the conclusion carries HSREQ, SID and KMREQ).
const LIBSRT_INDUCTION = Buffer.from(
  '800000000000000000000278000000000000000400000002485e48bf000005dc000020000000000103116b68000000000100007f000000000000000000000000',
  'hex',
);
const LIBSRT_CONCLUSION = Buffer.from(
  '800000000000000000002357000000000000000500000007485e48bf000005dc00002000ffffffff03116b68123456780100007f000000000000000000000000' +
    '0001000300010501000000bf00c800c8000500063a3a2123696c3d72782f6576703d6d2c696c6275000068730003000e122029010000000002000200000004' +
    '040d97a141f9cebee06488641f53dbf89d423c933096b0debb8570b5fd8e9e3a97567c87a875297dea',
  'hex',
);

function errorFault(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SrtHandshakeError, `expected SrtHandshakeError, got ${String(err)}`);
    assert.equal(err.code, 'SRSP_ERR_BAD_HANDSHAKE');
    return err.fault;
  }
  assert.fail('expected an error');
}

test('parses a libsrt induction request', () => {
  const hs = parseHandshake(LIBSRT_INDUCTION);
  assert.equal(hs.type, HandshakeType.INDUCTION);
  assert.equal(hs.version, 4);
  assert.equal(hs.extensionField, 2);
  assert.equal(hs.dstSocketId, 0);
  assert.equal(hs.socketId, 0x03116b68);
  assert.equal(hs.cookie, 0);
  assert.equal(hs.mtu, 1500);
  assert.equal(hs.flowWindow, 8192);
  assert.equal(hs.initialSequence, 0x485e48bf);
  assert.deepEqual([...hs.peerIp.subarray(0, 4)], [1, 0, 0, 127]);
  assert.deepEqual(hs.extensions, []);
});

test('parses a libsrt conclusion with HSREQ, SID and KMREQ', () => {
  const hs = parseHandshake(LIBSRT_CONCLUSION);
  assert.equal(hs.type, HandshakeType.CONCLUSION);
  assert.equal(hs.version, 5);
  assert.equal(hs.extensionField, 7);
  assert.equal(hs.cookie, 0x12345678);
  assert.deepEqual(hs.extensions.map((e) => e.type), [ExtensionType.HSREQ, ExtensionType.SID, ExtensionType.KMREQ]);
  assert.equal(streamIdOf(hs), '#!::r=live/x,m=publish');
  const hsreq = srtHsOf(hs);
  assert.deepEqual(hsreq, { srtVersion: 0x010501, flags: 0xbf, recvLatencyMs: 200, sendLatencyMs: 200 });
  assert.equal(findExtension(hs, ExtensionType.KMREQ)!.content.length, 14 * 4);
  // Serialising the parsed value reproduces the datagram byte for byte.
  assert.deepEqual(serializeHandshake(hs), LIBSRT_CONCLUSION);
});

test('every extension type round-trips verbatim, in order', () => {
  const blocks = [
    { type: ExtensionType.HSREQ, content: buildSrtHs({ srtVersion: 0x010501, flags: 0xbf, recvLatencyMs: 120, sendLatencyMs: 80 }) },
    { type: ExtensionType.HSRSP, content: buildSrtHs({ srtVersion: 0x010501, flags: 0x3f, recvLatencyMs: 300, sendLatencyMs: 0 }) },
    { type: ExtensionType.KMREQ, content: Buffer.from('122029010000000002000200000004040d97a141f9cebee0', 'hex') },
    { type: ExtensionType.KMRSP, content: Buffer.from('00000004', 'hex') },
    { type: ExtensionType.SID, content: encodeSwappedString('#!::h=example.com,r=live/s,m=request,u=alice') },
    { type: ExtensionType.CONGESTION, content: encodeSwappedString('live') },
    { type: ExtensionType.FILTER, content: encodeSwappedString('fec,cols:10,rows:5') },
    { type: ExtensionType.GROUP, content: Buffer.from('0000000a00010000', 'hex') },
    { type: 0x1234, content: Buffer.alloc(0) },
  ];
  const hs: Handshake = {
    timestamp: 77,
    dstSocketId: 0,
    version: 5,
    encryption: 2,
    extensionField: 7,
    initialSequence: 1,
    mtu: 1500,
    flowWindow: 8192,
    type: HandshakeType.CONCLUSION,
    socketId: 42,
    cookie: 99,
    peerIp: Buffer.from('0100007f000000000000000000000000', 'hex'),
    extensions: blocks,
  };
  const wire = serializeHandshake(hs);
  const back = parseHandshake(wire);
  assert.equal(back.extensions.length, blocks.length);
  for (let i = 0; i < blocks.length; i++) {
    assert.equal(back.extensions[i]!.type, blocks[i]!.type);
    assert.deepEqual(back.extensions[i]!.content, blocks[i]!.content);
  }
  assert.equal(streamIdOf(back), '#!::h=example.com,r=live/s,m=request,u=alice');
  assert.equal(decodeSwappedString(findExtension(back, ExtensionType.CONGESTION)!.content), 'live');
  assert.equal(decodeSwappedString(findExtension(back, ExtensionType.FILTER)!.content), 'fec,cols:10,rows:5');
  assert.deepEqual(parseSrtHs(findExtension(back, ExtensionType.HSRSP)!.content), { srtVersion: 0x010501, flags: 0x3f, recvLatencyMs: 300, sendLatencyMs: 0 });
  // HSREQ is preferred when both are present.
  assert.equal(srtHsOf(back)!.recvLatencyMs, 120);
  assert.deepEqual(serializeHandshake(back), wire);
});

test('stream id words are byte-swapped and NUL-padded', () => {
  const enc = encodeSwappedString('abcde');
  assert.deepEqual(enc, Buffer.from([0x64, 0x63, 0x62, 0x61, 0, 0, 0, 0x65]));
  assert.equal(decodeSwappedString(enc), 'abcde');
  assert.equal(decodeSwappedString(encodeSwappedString('')), '');
  assert.equal(decodeSwappedString(encodeSwappedString('日本/配信')), '日本/配信');
});

test('builds the induction response the way a libsrt listener does', () => {
  const req = parseHandshake(LIBSRT_INDUCTION);
  const wire = buildInductionResponse(req, 0xdeadbeef, 1234);
  assert.equal(wire.length, HANDSHAKE_SIZE);
  assert.equal(wire.readUInt32BE(0), 0x80000000);
  const res = parseHandshake(wire);
  assert.equal(res.dstSocketId, req.socketId, 'addressed to the caller');
  assert.equal(res.socketId, req.socketId, 'caller id echoed');
  assert.equal(res.version, 5);
  assert.equal(res.encryption, 0);
  assert.equal(res.extensionField, SRT_MAGIC);
  assert.equal(res.type, HandshakeType.INDUCTION);
  assert.equal(res.cookie, 0xdeadbeef);
  assert.equal(res.timestamp, 1234);
  assert.equal(res.initialSequence, req.initialSequence);
  assert.equal(res.mtu, req.mtu);
  assert.equal(res.flowWindow, req.flowWindow);
  assert.deepEqual(res.peerIp, req.peerIp);
});

test('builds an induction request like a libsrt caller from a conclusion', () => {
  const concl = parseHandshake(LIBSRT_CONCLUSION);
  const wire = buildInductionRequest({ ...concl, timestamp: 5 });
  // Identical to what libsrt sent, but for the timestamp.
  const expected = Buffer.from(LIBSRT_INDUCTION);
  expected.writeUInt32BE(5, 8);
  assert.deepEqual(wire, expected);
});

test('builds a rejection addressed to the caller', () => {
  const concl = parseHandshake(LIBSRT_CONCLUSION);
  const wire = buildRejection(concl, RejectReason.BAD_REQUEST, 9);
  const rej = parseHandshake(wire);
  assert.equal(wire.length, HANDSHAKE_SIZE);
  assert.equal(rej.type, 1000 + 1400);
  assert.ok(isRejection(rej.type));
  assert.equal(rej.dstSocketId, concl.socketId);
  assert.equal(rej.cookie, concl.cookie);
  assert.ok(!isRejection(HandshakeType.CONCLUSION) && !isRejection(HandshakeType.DONE) && !isRejection(HandshakeType.INDUCTION));
});

test('withCookie replaces only the cookie and leaves the original untouched', () => {
  const patched = withCookie(LIBSRT_CONCLUSION, 0x01020304);
  assert.equal(patched.readUInt32BE(44), 0x01020304);
  assert.equal(LIBSRT_CONCLUSION.readUInt32BE(44), 0x12345678);
  assert.deepEqual(patched.subarray(0, 44), LIBSRT_CONCLUSION.subarray(0, 44));
  assert.deepEqual(patched.subarray(48), LIBSRT_CONCLUSION.subarray(48));
});

test('rejects datagrams that are too short or not handshakes', () => {
  assert.equal(errorFault(() => parseHandshake(Buffer.alloc(0))), 'short');
  assert.equal(errorFault(() => parseHandshake(LIBSRT_INDUCTION.subarray(0, 63))), 'short');
  const ack = Buffer.from(LIBSRT_INDUCTION);
  ack.writeUInt16BE(0x8002, 0);
  assert.equal(errorFault(() => parseHandshake(ack)), 'not-handshake');
  const data = Buffer.from(LIBSRT_INDUCTION);
  data[0] = 0x00;
  assert.equal(errorFault(() => parseHandshake(data)), 'not-handshake');
});

test('a conclusion whose extension area ends in 2 stray bytes is an error, not a crash', () => {
  // The exact datagram that kills the Go proxy: 64 bytes + `\x00\x05`.
  const bad = Buffer.concat([LIBSRT_CONCLUSION.subarray(0, 64), Buffer.from([0x00, 0x05])]);
  assert.equal(errorFault(() => parseHandshake(bad)), 'extension-header-truncated');
  for (const extra of [1, 2, 3]) {
    assert.equal(errorFault(() => parseHandshake(Buffer.concat([LIBSRT_CONCLUSION, Buffer.alloc(extra)]))), 'extension-header-truncated');
  }
});

test('a conclusion whose extension is shorter than declared is an error', () => {
  // HSREQ declares 3 words; cut the datagram inside it.
  for (let cut = 68; cut < 80; cut++) {
    assert.equal(errorFault(() => parseHandshake(LIBSRT_CONCLUSION.subarray(0, cut))), 'extension-truncated', `cut at ${cut}`);
  }
  const huge = Buffer.from(LIBSRT_CONCLUSION);
  huge.writeUInt16BE(0xffff, 66);
  assert.equal(errorFault(() => parseHandshake(huge)), 'extension-truncated');
  // The last block (KMREQ) cut by one word.
  assert.equal(errorFault(() => parseHandshake(LIBSRT_CONCLUSION.subarray(0, LIBSRT_CONCLUSION.length - 4))), 'extension-truncated');
});

test('extension areas of non-conclusions are ignored', () => {
  const induction = Buffer.concat([LIBSRT_INDUCTION, Buffer.from([0x00, 0x05])]);
  assert.deepEqual(parseHandshake(induction).extensions, []);
});

test('too many extension blocks are refused', () => {
  const blocks = Array.from({ length: MAX_EXTENSIONS + 1 }, () => Buffer.from([0x00, 0x07, 0x00, 0x00]));
  const wire = Buffer.concat([LIBSRT_CONCLUSION.subarray(0, 64), ...blocks]);
  assert.equal(errorFault(() => parseHandshake(wire)), 'too-many-extensions');
  const ok = Buffer.concat([LIBSRT_CONCLUSION.subarray(0, 64), ...blocks.slice(1)]);
  assert.equal(parseHandshake(ok).extensions.length, MAX_EXTENSIONS);
});

test('stream id blocks that are too long or not UTF-8 are refused', () => {
  const long = encodeSwappedString('x'.repeat(600));
  assert.equal(errorFault(() => decodeSwappedString(long)), 'stream-id-too-long');
  const invalid = Buffer.from([0xff, 0xfe, 0x41, 0x41]).swap32();
  assert.equal(errorFault(() => decodeSwappedString(invalid)), 'bad-stream-id-encoding');
  assert.equal(decodeSwappedString(encodeSwappedString('x'.repeat(512))), 'x'.repeat(512));
});

test('HSREQ shorter than three words is refused', () => {
  assert.equal(errorFault(() => parseSrtHs(Buffer.alloc(8))), 'bad-hsreq');
});
