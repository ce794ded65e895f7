import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAmf0All, decodeAmf0Value, encodeAmf0, EcmaArray, type Amf0Value } from '../src/rtmp/amf0.ts';
import { BAD_AMF0 } from '../src/rtmp/errors.ts';

test('round trips every supported type', () => {
  const values: Amf0Value[] = [
    'connect',
    1,
    -0.5,
    Number.MAX_SAFE_INTEGER,
    true,
    false,
    null,
    undefined,
    '',
    'x'.repeat(70_000), // long string
    { app: 'live', tcUrl: 'rtmp://h/live?secret=abc', nested: { a: [1, 'two', null, { b: false }] } },
    new EcmaArray({ duration: 0, width: 320, encoder: 'Lavf' }),
    [1, 2, 3],
    [],
    {},
    new Date(1700000000000),
  ];
  const buf = encodeAmf0(...values);
  assert.deepEqual(decodeAmf0All(buf), values);
});

test('decodes the bytes ffmpeg sends for connect', () => {
  // "connect", 1, {app:"live", tcUrl:"rtmp://a/live"} as written by a real encoder
  const hex =
    '020007' + Buffer.from('connect').toString('hex') +
    '003ff0000000000000' +
    '03' + '0003' + Buffer.from('app').toString('hex') + '02' + '0004' + Buffer.from('live').toString('hex') +
    '0005' + Buffer.from('tcUrl').toString('hex') + '02' + '000d' + Buffer.from('rtmp://a/live').toString('hex') +
    '000009';
  const v = decodeAmf0All(Buffer.from(hex, 'hex'));
  assert.deepEqual(v, ['connect', 1, { app: 'live', tcUrl: 'rtmp://a/live' }]);
});

test('keeps __proto__ as a plain data property', () => {
  const raw = Buffer.concat([Buffer.from([0x03, 0x00, 0x09]), Buffer.from('__proto__'), Buffer.from([0x02, 0x00, 0x01, 0x78, 0x00, 0x00, 0x09])]);
  const { value } = decodeAmf0Value(raw);
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.deepEqual(Object.keys(value as object), ['__proto__']);
  assert.equal((value as Record<string, unknown>)['__proto__'], 'x');
});

test('ECMA array count is advisory: the end marker ends it', () => {
  const raw = Buffer.concat([Buffer.from([0x08, 0, 0, 0, 0, 0, 1]), Buffer.from('a'), Buffer.from([0x05, 0, 0, 9])]);
  assert.deepEqual(decodeAmf0Value(raw).value, new EcmaArray({ a: null }));
});

function assertAmfError(buf: Buffer, re: RegExp) {
  assert.throws(() => decodeAmf0All(buf), (e: Error & { code?: string }) => e.code === BAD_AMF0 && re.test(e.message));
}

test('refuses unsupported markers, truncation, lies and bombs with typed errors', () => {
  assertAmfError(Buffer.from([0x07, 0, 1]), /marker 0x07/); // reference
  assertAmfError(Buffer.from([0x11]), /marker 0x11/); // AMF3 switch
  assertAmfError(Buffer.from([0x10, 0, 1, 0x41]), /marker 0x10/); // typed object
  assertAmfError(Buffer.from([0x00, 1, 2]), /truncated number/);
  assertAmfError(Buffer.from([0x02, 0, 5, 0x61]), /truncated string/);
  assertAmfError(Buffer.from([0x03, 0, 1, 0x61, 0x05]), /truncated/); // no object end
  assertAmfError(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x05]), /exceeds the message/);
  // 40 nested one-element strict arrays
  const deep = Buffer.concat([...Array.from({ length: 40 }, () => Buffer.from([0x0a, 0, 0, 0, 1])), Buffer.from([0x05])]);
  assertAmfError(deep, /deeper than/);
  // 20k nulls in a strict array: over the value budget
  const many = Buffer.concat([Buffer.from([0x0a, 0, 0, 0x4e, 0x20]), Buffer.alloc(20_000, 0x05)]);
  assertAmfError(many, /more than 10000 values/);
});
