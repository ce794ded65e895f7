import assert from 'node:assert/strict';
import { useRedis } from './redis-fixture.ts';
import { MemoryBalancer, RedisBalancer, type Balancer } from '../src/index.ts';
import { balancerContract } from './contract.ts';

balancerContract({
  name: 'memory',
  realTime: false,
  async make(opts) {
    const b = new MemoryBalancer(opts);
    await b.init();
    return b;
  },
  async assertBounded(b, caps) {
    const s = (b as MemoryBalancer).sizes();
    assert.ok(s.streams <= caps.streams, `streams ${s.streams}`);
    assert.ok(s.hls <= caps.hls && s.hlsIds <= caps.hls, `hls ${s.hls}/${s.hlsIds}`);
    assert.ok(s.rtc <= caps.rtc, `rtc ${s.rtc}`);
  },
});

const fx = useRedis();
let n = 0;

balancerContract({
  name: 'redis',
  realTime: true,
  async make(opts) {
    // A prefix per balancer isolates the tests from each other inside one redis-server.
    const b = new RedisBalancer({ host: '127.0.0.1', port: fx.server.port, db: 0, keyPrefix: `t${++n}:` }, opts);
    await b.init();
    return b;
  },
  async assertBounded(b: Balancer) {
    const prefix = (b as RedisBalancer).prefix;
    const keys = await fx.admin.keys(`${prefix}*`);
    assert.ok(keys.length > 0);
    // The origins index is capped (maxOrigins) and swept; the store epoch is one key. The rest expire.
    for (const k of keys) {
      if (k === `${prefix}origins` || k === `${prefix}epoch`) continue;
      const ttl = await fx.admin.pttl(k);
      assert.ok(ttl > 0, `${k} has no TTL (${ttl})`);
    }
  },
});
