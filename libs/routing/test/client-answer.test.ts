import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NoOriginError, EndpointError, StreamUrlError } from '@srs-proxy/balancer';
import { RegistryTimeoutError, RegistryUnavailableError, RemoteError } from '@srs-proxy/bus';
import { ProxyError } from '@srs-proxy/runtime';
import {
  httpAnswer, whipAnswer, rtmpAnswer, srtRejectReason, SrtReject, OriginConnectTimeoutError, OriginFailedError, OriginNoEndpointError,
  OriginRejectedError, OriginTimeoutError, OriginUnreachableError,
} from '../src/index.ts';

/** Internal details every error below carries: none may reach a client. */
const SECRETS = ['10.1.2.3', '19350', 'srs-a-svc-77', 'srsp.v1.registry', 'at Object.', 'ECONNREFUSED'];
const detail = 'origin srs-a-svc-77 at 10.1.2.3:19350: connect ECONNREFUSED (srsp.v1.registry.pick) at Object.<anonymous>';

const errors: Array<[Error, { http: number; srt: number }]> = [
  [new NoOriginError(`no server available for __defaultVhost__/live/s ${detail}`), { http: 503, srt: SrtReject.UNAVAILABLE }],
  [new RemoteError('SRSP_ERR_NO_ORIGIN', detail), { http: 503, srt: SrtReject.UNAVAILABLE }],
  [new RegistryUnavailableError(detail), { http: 503, srt: SrtReject.UNAVAILABLE }],
  [new RegistryTimeoutError(detail), { http: 503, srt: SrtReject.UNAVAILABLE }],
  [new RemoteError('SRSP_ERR_STORE_UNAVAILABLE', detail), { http: 503, srt: SrtReject.UNAVAILABLE }],
  [new StreamUrlError(detail), { http: 400, srt: SrtReject.BAD_REQUEST }],
  [new OriginUnreachableError(detail), { http: 502, srt: SrtReject.UNAVAILABLE }],
  [new OriginNoEndpointError(detail), { http: 502, srt: SrtReject.UNAVAILABLE }],
  [new EndpointError(detail), { http: 502, srt: SrtReject.UNAVAILABLE }],
  [new OriginConnectTimeoutError(detail), { http: 504, srt: SrtReject.TIMEOUT }],
  [new OriginTimeoutError(detail), { http: 504, srt: SrtReject.TIMEOUT }],
  [new OriginRejectedError(detail), { http: 502, srt: SrtReject.BAD_GATEWAY }],
  [new OriginFailedError(detail), { http: 502, srt: SrtReject.BAD_GATEWAY }],
  [new ProxyError('SRSP_ERR_SOMETHING_NEW', detail), { http: 500, srt: SrtReject.UNAVAILABLE }],
  [new Error(detail), { http: 500, srt: SrtReject.UNAVAILABLE }],
];

const leaks = (text: string) => SECRETS.filter((s) => text.includes(s));

test('every adapter answers every error without internal text', () => {
  for (const [err, want] of errors) {
    const name = `${err.constructor.name} ${(err as { code?: string }).code ?? ''}`;
    const http = httpAnswer(err);
    assert.equal(http.status, want.http, name);
    assert.deepEqual(leaks(http.text), [], name);
    const whip = whipAnswer(err, { stream: '__defaultVhost__/live/s' });
    assert.deepEqual(leaks(whip.text), [], name);
    for (const role of ['publish', 'play'] as const) assert.deepEqual(leaks(rtmpAnswer(err, role).description), [], name);
    assert.equal(srtRejectReason(err), want.srt, name);
  }
});

test('answers per protocol', () => {
  const none = new NoOriginError('no server available for __defaultVhost__/live/s');
  assert.deepEqual(httpAnswer(none), { status: 503, text: 'no origin server available for this stream' });
  assert.deepEqual(whipAnswer(none, { stream: '__defaultVhost__/live/s' }), { status: 503, text: 'no origin server available for __defaultVhost__/live/s' });
  assert.deepEqual(whipAnswer(new OriginUnreachableError(detail)), { status: 503, text: 'origin server unreachable' });
  assert.deepEqual(rtmpAnswer(none, 'publish'), { code: 'NetStream.Publish.BadName', description: 'no origin server available for this stream' });
  assert.deepEqual(rtmpAnswer(new OriginRejectedError(detail), 'play'), { code: 'NetStream.Play.StreamNotFound', description: 'origin server refused the stream' });
});

test('an edge\'s own codes: a kind, its own answer, or a message written for the client', () => {
  const mine = new ProxyError('SRSP_ERR_MINE', 'details with srs-a-svc-77', { status: 404 });
  assert.equal(httpAnswer(mine).status, 500);
  assert.deepEqual(httpAnswer(mine, { SRSP_ERR_MINE: 'bad-request' }), { status: 400, text: 'invalid stream URL' });
  assert.deepEqual(httpAnswer(mine, {}, { SRSP_ERR_MINE: { status: 404, text: 'gone' } }), { status: 404, text: 'gone' });
  const clientFacing = new ProxyError('SRSP_ERR_BAD_SDP', 'no ice-ufrag in offer', { status: 400 });
  assert.deepEqual(whipAnswer(clientFacing, { codes: { SRSP_ERR_BAD_SDP: 'message' } }), { status: 400, text: 'no ice-ufrag in offer' });
  assert.equal(srtRejectReason(mine, { SRSP_ERR_MINE: SrtReject.RESOURCE }), SrtReject.RESOURCE);
});
