import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionTable } from '../src/session-table.ts';

const entry = (callerAddress: string, callerPort: number) => ({ callerAddress, callerPort });

test('finds entries by socket id, caller port and caller address', () => {
  const t = new SessionTable<ReturnType<typeof entry>>();
  const a = entry('10.0.0.1', 1000);
  assert.ok(t.add(0xfedcba98, a));
  assert.equal(t.get(0xfedcba98, 1000, '10.0.0.1'), a);
  assert.equal(t.get(0xfedcba98, 1001, '10.0.0.1'), undefined);
  assert.equal(t.get(0xfedcba98, 1000, '10.0.0.2'), undefined);
  assert.equal(t.get(0x3edcba98, 1000, '10.0.0.1'), undefined, 'same low 30 bits, other id');
  assert.equal(t.size, 1);
});

test('ids that share their low 30 bits chain in one bucket and delete independently', () => {
  const t = new SessionTable<ReturnType<typeof entry>>();
  const ids = [0x00000007, 0x40000007, 0x80000007, 0xc0000007];
  const values = ids.map((_, i) => entry('127.0.0.1', 2000 + i));
  ids.forEach((id, i) => assert.ok(t.add(id, values[i]!)));
  assert.equal(t.size, 4);
  assert.equal(t.bucketCount, 1);
  ids.forEach((id, i) => assert.equal(t.get(id, 2000 + i, '127.0.0.1'), values[i]));
  assert.ok(t.delete(ids[1]!, values[1]!));
  assert.ok(!t.delete(ids[1]!, values[1]!), 'second delete is a no-op');
  assert.equal(t.get(ids[1]!, 2001, '127.0.0.1'), undefined);
  assert.equal(t.get(ids[2]!, 2002, '127.0.0.1'), values[2]);
  for (const i of [0, 2, 3]) assert.ok(t.delete(ids[i]!, values[i]!));
  assert.equal(t.size, 0);
  assert.equal(t.bucketCount, 0);
});

test('one id may serve different callers; the same caller twice is refused', () => {
  const t = new SessionTable<ReturnType<typeof entry>>();
  const a = entry('10.0.0.1', 1000);
  const b = entry('10.0.0.2', 1000);
  assert.ok(t.add(5, a));
  assert.ok(t.add(5, b));
  assert.ok(!t.add(5, entry('10.0.0.1', 1000)));
  assert.equal(t.get(5, 1000, '10.0.0.2'), b);
  assert.ok(!t.delete(5, entry('10.0.0.1', 1000)), 'delete matches the stored object');
  assert.equal(t.size, 2);
});
