import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatHostPort, EndpointError } from '../src/index.ts';
import { parseEndpoint } from '../src/endpoint.ts';

const IP = '10.0.0.5';

describe('parseEndpoint', () => {
  const valid: Array<[string, { proto: 'tcp' | 'udp' | undefined; host: string; port: number }]> = [
    ['1935', { proto: undefined, host: IP, port: 1935 }],
    [':1935', { proto: undefined, host: IP, port: 1935 }],
    ['tcp://:1935', { proto: 'tcp', host: IP, port: 1935 }],
    ['tcp://0.0.0.0:1935', { proto: 'tcp', host: IP, port: 1935 }],
    ['udp://0.0.0.0:8000', { proto: 'udp', host: IP, port: 8000 }],
    ['udp://[::]:8000', { proto: 'udp', host: IP, port: 8000 }],
    ['[::]:8000', { proto: undefined, host: IP, port: 8000 }],
    ['tcp://[::1]:1935', { proto: 'tcp', host: '::1', port: 1935 }],
    ['[fe80::1]:8080', { proto: undefined, host: 'fe80::1', port: 8080 }],
    ['127.0.0.1:1935', { proto: undefined, host: '127.0.0.1', port: 1935 }],
    ['0.0.0.0:8080', { proto: undefined, host: IP, port: 8080 }],
    ['origin-1.example.com:19351', { proto: undefined, host: 'origin-1.example.com', port: 19351 }],
    ['UDP://0.0.0.0:10080', { proto: 'udp', host: IP, port: 10080 }],
    [' 8081 ', { proto: undefined, host: IP, port: 8081 }],
    ['1', { proto: undefined, host: IP, port: 1 }],
    ['65535', { proto: undefined, host: IP, port: 65535 }],
  ];
  for (const [raw, want] of valid) {
    it(`accepts ${JSON.stringify(raw)}`, () => assert.deepEqual(parseEndpoint(raw, IP), want));
  }

  const invalid = [
    '', '   ', 'abc', '1935x', 'x1935', '0', '65536', '99999', '123456', '-1', '1.5',
    'http://:80', 'srt://:10080', 'tcp://', 'tcp://:', 'tcp://0.0.0.0', '127.0.0.1:', '127.0.0.1',
    '::1:1935', '[::1', '[::1]1935', '[::1]:', '[zz::1]:80', 'a b:80', 'host/x:80', '1.2.3.4:80:90',
    'x'.repeat(301),
  ];
  for (const raw of invalid) {
    it(`rejects ${JSON.stringify(raw.length > 40 ? raw.slice(0, 20) + '…' : raw)} with EndpointError`, () => {
      assert.throws(() => parseEndpoint(raw, IP), (err: unknown) => err instanceof EndpointError && err.code === 'SRSP_ERR_BAD_ENDPOINT');
    });
  }

  it('rejects non-strings with EndpointError', () => {
    assert.throws(() => parseEndpoint(1935 as unknown as string, IP), EndpointError);
  });

  it('formats IPv6 hosts with brackets', () => {
    assert.equal(formatHostPort('::1', 1935), '[::1]:1935');
    assert.equal(formatHostPort('10.0.0.5', 1935), '10.0.0.5:1935');
  });
});
