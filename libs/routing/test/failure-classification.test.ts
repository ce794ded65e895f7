import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyError } from '@srs-proxy/runtime';
import {
  classifyFailure, dialTcp, OriginConnectTimeoutError, OriginFailedError, OriginNoEndpointError, OriginRejectedError, OriginTimeoutError,
  OriginUnreachableError, ORIGIN_CONNECT_TIMEOUT, ORIGIN_UNREACHABLE,
} from '../src/index.ts';
import { refusedPort } from './support.ts';

const sys = (code: string) => Object.assign(new Error(code), { code });

test('connect failures of every transport are "down"; whatever reached the origin is "failed"', () => {
  for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']) {
    assert.equal(classifyFailure(sys(code)), 'down', code);
  }
  for (const err of [new OriginUnreachableError('x'), new OriginConnectTimeoutError('x'), new OriginNoEndpointError('x')]) {
    assert.equal(classifyFailure(err), 'down', err.code);
  }
  for (const err of [
    new OriginRejectedError('x'), new OriginTimeoutError('x'), new OriginFailedError('x'), sys('ECONNRESET'), sys('UND_ERR_HEADERS_TIMEOUT'),
    sys('UND_ERR_SOCKET'), new ProxyError('SRSP_ERR_NO_ORIGIN', 'x'), new Error('plain'), 'text', undefined, null,
  ]) {
    assert.equal(classifyFailure(err), 'failed', String((err as { code?: string } | null)?.code ?? err));
  }
});

test('a wrapped connect failure is found through its causes', () => {
  assert.equal(classifyFailure(new OriginFailedError('origin request failed', sys('ECONNREFUSED'))), 'down');
  assert.equal(classifyFailure(new Error('outer', { cause: new Error('mid', { cause: sys('EHOSTUNREACH') }) })), 'down');
  const loop: Error & { cause?: unknown } = new Error('self');
  loop.cause = loop;
  assert.equal(classifyFailure(loop), 'failed', 'a cause cycle ends');
});

test('dialTcp: a refused port is ORIGIN_UNREACHABLE, a silent address ORIGIN_CONNECT_TIMEOUT, both down', async () => {
  const port = await refusedPort();
  await assert.rejects(dialTcp({ host: '127.0.0.1', port, proto: 'tcp' }, 1_000), (err: unknown) => {
    assert.equal((err as OriginUnreachableError).code, ORIGIN_UNREACHABLE);
    assert.equal(classifyFailure(err), 'down');
    return true;
  });
  // TEST-NET-1 (RFC 5737) is never routed: the connect hangs until our timeout (or fails at once
  // where the host has no route, which is down as well).
  const started = Date.now();
  await assert.rejects(dialTcp({ host: '192.0.2.1', port: 9, proto: 'tcp' }, 100), (err: unknown) => {
    assert.ok([ORIGIN_CONNECT_TIMEOUT, ORIGIN_UNREACHABLE].includes((err as { code: string }).code));
    assert.equal(classifyFailure(err), 'down');
    return true;
  });
  assert.ok(Date.now() - started < 2_000);
});
