import test from 'node:test';
import assert from 'node:assert/strict';
import { parseStun, isBindingRequest, StunClass, STUN_METHOD_BINDING } from '../src/stun.ts';
import { stunMessage, RFC5769_REQUEST, LIBJUICE_REQUEST } from './stun-builder.ts';

test('RFC 5769 sample request: Binding request with USERNAME evtj:h6vY', () => {
  assert.equal(RFC5769_REQUEST.length, 108);
  const r = parseStun(RFC5769_REQUEST);
  assert.ok(r.ok);
  assert.equal(r.message.method, STUN_METHOD_BINDING);
  assert.equal(r.message.cls, StunClass.REQUEST);
  assert.equal(r.message.username, 'evtj:h6vY');
  assert.ok(isBindingRequest(r.message));
});

test('a Binding request captured from libjuice parses to its ICE username', () => {
  const r = parseStun(LIBJUICE_REQUEST);
  assert.ok(r.ok);
  assert.equal(r.message.username, 'srvU:pCjw');
  assert.ok(isBindingRequest(r.message));
});

test('message classes decode from the type bits', () => {
  const cases: Array<[number, number]> = [[0x0001, StunClass.REQUEST], [0x0011, StunClass.INDICATION], [0x0101, StunClass.SUCCESS], [0x0111, StunClass.ERROR]];
  for (const [type, cls] of cases) {
    const r = parseStun(stunMessage({ type }));
    assert.ok(r.ok, `type ${type.toString(16)}`);
    assert.equal(r.message.cls, cls);
    assert.equal(r.message.method, STUN_METHOD_BINDING);
    assert.equal(isBindingRequest(r.message), cls === StunClass.REQUEST);
  }
  const allocate = parseStun(stunMessage({ type: 0x0003 }));
  assert.ok(allocate.ok);
  assert.equal(allocate.message.method, 0x003);
  assert.equal(isBindingRequest(allocate.message), false);
});

test('the 22-byte datagram that crashes the Go proxy is a truncated attribute', () => {
  // type 1, declared length 2, cookie, 12-byte transaction id, then only an attribute type.
  const b = Buffer.concat([Buffer.from('000100022112a442', 'hex'), Buffer.alloc(12, 7), Buffer.from('0006', 'hex')]);
  assert.equal(b.length, 22);
  // The declared length (2) is not a multiple of 4, so it fails before the attribute walk too.
  assert.deepEqual(parseStun(b), { ok: false, reason: 'bad-length' });
  // With a consistent, word-aligned length the walk itself must catch the cut attribute.
  const c = Buffer.concat([Buffer.from('000100042112a442', 'hex'), Buffer.alloc(12, 7), Buffer.from('00060040', 'hex')]);
  assert.deepEqual(parseStun(c), { ok: false, reason: 'truncated-attribute' });
});

test('malformed headers are rejected with a reason', () => {
  const good = stunMessage({ username: 'a:b' });
  assert.deepEqual(parseStun(good.subarray(0, 19)), { ok: false, reason: 'too-short' });
  const notStun = Buffer.from(good);
  notStun[0] = 0x80;
  assert.deepEqual(parseStun(notStun), { ok: false, reason: 'not-stun' });
  const longer = Buffer.concat([good, Buffer.alloc(4)]);
  assert.deepEqual(parseStun(longer), { ok: false, reason: 'bad-length' });
  const cookie = Buffer.from(good);
  cookie[4] = 0;
  assert.deepEqual(parseStun(cookie), { ok: false, reason: 'bad-cookie' });
});

test('an attribute whose padding runs past the end is truncated', () => {
  const m = stunMessage({ username: 'abcde:xyz' });
  // Shrink the message by its last 4 bytes and fix the header length: value now overruns.
  const cut = Buffer.from(m.subarray(0, m.length - 4));
  cut.writeUInt16BE(cut.length - 20, 2);
  assert.deepEqual(parseStun(cut), { ok: false, reason: 'truncated-attribute' });
});

test('USERNAME must be 1..512 bytes; the first one wins', () => {
  assert.deepEqual(parseStun(stunMessage({ attrs: [{ type: 6, value: Buffer.alloc(0) }] })), { ok: false, reason: 'bad-username' });
  assert.deepEqual(parseStun(stunMessage({ attrs: [{ type: 6, value: Buffer.alloc(513, 0x61) }] })), { ok: false, reason: 'bad-username' });
  const max = parseStun(stunMessage({ attrs: [{ type: 6, value: Buffer.alloc(512, 0x61) }] }));
  assert.ok(max.ok);
  assert.equal(max.message.username?.length, 512);
  const two = parseStun(stunMessage({ attrs: [{ type: 6, value: Buffer.from('first:one') }, { type: 6, value: Buffer.from('second:two') }] }));
  assert.ok(two.ok);
  assert.equal(two.message.username, 'first:one');
});

test('a message without attributes has no username', () => {
  const r = parseStun(stunMessage());
  assert.ok(r.ok);
  assert.equal(r.message.username, undefined);
});

test('parses a message located inside a larger buffer (pooled Buffer offsets)', () => {
  const m = stunMessage({ username: 'off:set' });
  const pool = Buffer.concat([Buffer.alloc(37, 0xff), m, Buffer.alloc(11, 0xee)]);
  const r = parseStun(pool.subarray(37, 37 + m.length));
  assert.ok(r.ok);
  assert.equal(r.message.username, 'off:set');
});
