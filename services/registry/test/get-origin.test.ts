import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusRegistryClient, subjects, MESSAGE_VERSION } from '@srs-proxy/bus';
import { errorCode } from '@srs-proxy/runtime';
import { SRS7_UPSTREAM_EXAMPLE, http, startTestRegistry } from './support.ts';

const ORIGIN_ID = 'vid-12r842t-z4771793-5873';

test('registry.origins.get answers one origin by id, without summaries, instead of the fleet listing', async (t) => {
  const r = await startTestRegistry();
  t.after(() => r.close());
  const client = new BusRegistryClient(r.bus, 1000);
  assert.equal(await client.getOrigin(ORIGIN_ID), undefined);
  assert.equal((await http(r.port, { path: '/api/v1/srs/register', body: SRS7_UPSTREAM_EXAMPLE })).status, 200);
  const got = await client.getOrigin(ORIGIN_ID);
  assert.equal(got?.origin.id, ORIGIN_ID);
  assert.equal(got?.alive, true);
  assert.equal('summaries' in (got?.origin ?? {}), false);
  assert.equal(await client.getOrigin('someone-else'), undefined);
  for (const bad of [{ v: MESSAGE_VERSION }, { v: MESSAGE_VERSION, origin_id: '' }, { v: MESSAGE_VERSION, origin_id: 'x'.repeat(801) }, { v: 0, origin_id: ORIGIN_ID }]) {
    await assert.rejects(r.bus.request(subjects.getOrigin, bad, { timeoutMs: 1000 }), (err: unknown) => errorCode(err) === 'SRSP_ERR_BAD_MESSAGE');
  }
});
