import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusRegistryClient, InprocTransport, subjects } from '@srs-proxy/bus';
import { createLogger } from '@srs-proxy/runtime';
import { reportOriginFailure } from '../src/index.ts';
import { LogCapture } from '../../../test/support/log-capture.ts';

const logs = () => {
  const capture = new LogCapture();
  return { capture, log: createLogger({ service: 't', level: 'debug', destination: capture }) };
};

test('a report is awaited: the registry has it before reportOriginFailure resolves', async () => {
  const bus = new InprocTransport();
  const seen: unknown[] = [];
  bus.serve(subjects.reportFailure, async (data) => {
    seen.push(data);
    return { v: 1 };
  });
  const { log } = logs();
  await reportOriginFailure(new BusRegistryClient(bus, 2_000), 'o-1', 's', 'refused', log, 1_000);
  assert.deepEqual(seen, [{ v: 1, origin_id: 'o-1', stream_url: 's', reason: 'refused' }]);
  await bus.close();
});

test('a registry that does not answer holds the failover for the bound only', async () => {
  const bus = new InprocTransport();
  bus.serve(subjects.reportFailure, () => new Promise(() => {}));
  const { capture, log } = logs();
  const started = performance.now();
  await reportOriginFailure(new BusRegistryClient(bus, 10_000), 'o-1', 's', 'refused', log, 50);
  const took = performance.now() - started;
  assert.ok(took >= 45 && took < 1_000, `took ${took} ms`);
  assert.equal(capture.matching(/unconfirmed; failing over anyway/).length, 1);
  await bus.close();
});

test('a failed report is logged, never thrown', async () => {
  const bus = new InprocTransport();
  const { capture, log } = logs();
  await reportOriginFailure(new BusRegistryClient(bus, 1_000), 'o-1', 's', 'refused', log, 500);
  assert.equal(capture.matching(/could not report the origin failure/).length, 1);
  await bus.close();
});
