import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Coalescer } from '../src/cache/coalescer.ts';

test('Coalescer: concurrent callers of one key share one load; the entry is gone once it settles', async () => {
  const c = new Coalescer<string, number>();
  let loads = 0;
  let release!: (n: number) => void;
  const load = () => {
    loads++;
    return new Promise<number>((resolve) => (release = resolve));
  };
  const first = c.run('k', load);
  const others = Array.from({ length: 9 }, () => c.run('k', load));
  const elsewhere = c.run('other', async () => 7);
  assert.equal(first.leader, true);
  assert.ok(others.every((o) => !o.leader && o.result === first.result));
  assert.equal(c.size, 2);
  release(42);
  assert.deepEqual(await Promise.all([first.result, ...others.map((o) => o.result)]), Array(10).fill(42));
  assert.equal(await elsewhere.result, 7);
  assert.equal(loads, 1);
  assert.equal(c.size, 0);
  const again = c.run('k', async () => 43);
  assert.equal(again.leader, true, 'a settled load is not reused');
  assert.equal(await again.result, 43);
});

test('Coalescer: a failed load rejects every waiter and is not remembered', async () => {
  const c = new Coalescer<string, number>();
  const a = c.run('k', async () => {
    await new Promise((r) => setTimeout(r, 10));
    throw new Error('origin down');
  });
  const b = c.run('k', async () => 1);
  await assert.rejects(a.result, /origin down/);
  await assert.rejects(b.result, /origin down/);
  assert.equal(c.size, 0);
  assert.equal(await c.run('k', async () => 2).result, 2);
});
