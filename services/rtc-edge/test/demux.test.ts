import test from 'node:test';
import assert from 'node:assert/strict';
import { classifyDatagram, PacketKind } from '../src/demux.ts';

test('RFC 7983 first-byte ranges', () => {
  const expected = (b: number): PacketKind => {
    if (b <= 3) return PacketKind.STUN;
    if (b >= 16 && b <= 19) return PacketKind.ZRTP;
    if (b >= 20 && b <= 63) return PacketKind.DTLS;
    if (b >= 64 && b <= 79) return PacketKind.TURN_CHANNEL;
    if (b >= 128 && b <= 191) return PacketKind.RTP;
    return PacketKind.UNKNOWN;
  };
  for (let b = 0; b < 256; b++) assert.equal(classifyDatagram(Uint8Array.of(b, 0, 0, 0)), expected(b), `byte ${b}`);
});

test('boundaries and real first bytes', () => {
  const table: Array<[number, PacketKind, string]> = [
    [0x00, PacketKind.STUN, 'Binding request'],
    [0x01, PacketKind.STUN, 'Binding response'],
    [0x03, PacketKind.STUN, 'last STUN value'],
    [0x04, PacketKind.UNKNOWN, 'first gap'],
    [0x16, PacketKind.DTLS, 'DTLS handshake (22)'],
    [0x17, PacketKind.DTLS, 'DTLS application data (23)'],
    [0x15, PacketKind.DTLS, 'DTLS alert (21)'],
    [0x14, PacketKind.DTLS, 'DTLS change cipher spec (20)'],
    [0x3f, PacketKind.DTLS, 'last DTLS value'],
    [0x40, PacketKind.TURN_CHANNEL, 'first TURN channel'],
    [0x50, PacketKind.UNKNOWN, 'after TURN channel'],
    [0x80, PacketKind.RTP, 'RTP v2 no padding'],
    [0x90, PacketKind.RTP, 'RTP with extension'],
    [0xbf, PacketKind.RTP, 'last RTP value'],
    [0xc0, PacketKind.UNKNOWN, 'above RTP'],
    [0xff, PacketKind.UNKNOWN, 'top'],
  ];
  for (const [b, kind, what] of table) assert.equal(classifyDatagram(Uint8Array.of(b)), kind, what);
});

test('an empty datagram is unknown', () => {
  assert.equal(classifyDatagram(new Uint8Array(0)), PacketKind.UNKNOWN);
});
