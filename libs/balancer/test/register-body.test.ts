import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRegisterBody, resolveEndpoint, resolveEndpoints, RegisterError } from '../src/index.ts';
import { ORIGIN_RECORD_VERSION, MAX_ENDPOINTS_PER_KIND, MAX_FIELD_LENGTH } from '../src/origin.ts';

// Verified SRS 7 heartbeat (spec 3.7), byte for byte.
const SRS7 = '{"device_id":"origin1","ip":"192.0.2.2","server":"vid-12r842t","service":"z4771793","pid":"5873","rtmp":["19351"],"http":["8081"],"api":["19851"],"srt":["udp://0.0.0.0:10081"]}';
const NOW = 1_700_000_000_000;

function rejects(body: unknown, field: string, message?: string) {
  assert.throws(
    () => parseRegisterBody(body, NOW),
    (e: unknown) => e instanceof RegisterError && e.code === 'SRSP_ERR_BAD_REGISTER' && e.status === 400 && e.field === field && (message === undefined || e.message === message),
    `expected RegisterError on ${field}`,
  );
}

describe('parseRegisterBody', () => {
  it('accepts the SRS 7 heartbeat unchanged', () => {
    assert.deepEqual(parseRegisterBody(JSON.parse(SRS7), NOW), {
      v: ORIGIN_RECORD_VERSION,
      id: 'vid-12r842t-z4771793-5873',
      ip: '192.0.2.2',
      server: 'vid-12r842t',
      service: 'z4771793',
      pid: '5873',
      device_id: 'origin1',
      rtmp: ['19351'],
      http: ['8081'],
      api: ['19851'],
      srt: ['udp://0.0.0.0:10081'],
      rtc: [],
      updated_at: NOW,
    });
  });

  it('keeps summaries and every rtc endpoint; ignores unknown fields', () => {
    const body = { ...JSON.parse(SRS7), rtc: ['udp://0.0.0.0:8001', 'tcp://0.0.0.0:8000'], summaries: { data: { cpu: 1 } }, extra: 'x' };
    const r = parseRegisterBody(body, NOW);
    assert.deepEqual(r.rtc, ['udp://0.0.0.0:8001', 'tcp://0.0.0.0:8000']);
    assert.deepEqual(r.summaries, { data: { cpu: 1 } });
    assert.equal('extra' in r, false);
  });

  it('accepts every endpoint form SRS may report', () => {
    const r = parseRegisterBody({ ip: '10.0.0.5', server: 's', service: 'v', pid: '1', rtmp: ['0.0.0.0:1935', '[::]:1936'], http: ['tcp://:8080'], api: ['127.0.0.1:1985'] }, NOW);
    assert.deepEqual(resolveEndpoint(r, 'rtmp'), { proto: undefined, host: '10.0.0.5', port: 1935 });
    assert.deepEqual(resolveEndpoints(r, 'rtmp').map((e) => e.port), [1935, 1936]);
    assert.deepEqual(resolveEndpoint(r, 'http'), { proto: 'tcp', host: '10.0.0.5', port: 8080 });
    assert.deepEqual(resolveEndpoint(r, 'api'), { proto: undefined, host: '127.0.0.1', port: 1985 });
    assert.equal(resolveEndpoint(r, 'srt'), undefined);
    assert.equal(r.rtc.length, 0);
    assert.equal(r.rtmp.length > 0, true);
  });

  it('keeps upstream wording and order of the required-field errors', () => {
    rejects(undefined, 'ip', 'empty ip');
    rejects('', 'ip', 'empty ip');
    rejects({}, 'ip', 'empty ip');
    rejects({ ip: '1.2.3.4' }, 'server', 'empty server');
    rejects({ ip: '1.2.3.4', server: 's' }, 'service', 'empty service');
    rejects({ ip: '1.2.3.4', server: 's', service: 'v' }, 'pid', 'empty pid');
    rejects({ ip: '1.2.3.4', server: 's', service: 'v', pid: '1' }, 'rtmp', 'empty rtmp');
    rejects({ ip: '1.2.3.4', server: 's', service: 'v', pid: '1', rtmp: [] }, 'rtmp', 'empty rtmp');
  });

  const base = { ip: '1.2.3.4', server: 's', service: 'v', pid: '1', rtmp: ['1935'] };
  const bad: Array<[string, unknown, string]> = [
    ['array body', [base], 'body'],
    ['number body', 42, 'body'],
    ['pid as a number (a decode error upstream)', { ...base, pid: 1 }, 'pid'],
    ['rtmp as a string', { ...base, rtmp: '1935' }, 'rtmp'],
    ['rtmp element not a string', { ...base, rtmp: [1935] }, 'rtmp[0]'],
    ['invalid rtmp endpoint', { ...base, rtmp: ['nope'] }, 'rtmp[0]'],
    ['invalid second rtc endpoint', { ...base, rtc: ['8000', 'udp://[::]8000'] }, 'rtc[1]'],
    ['http not an array', { ...base, http: { a: 1 } }, 'http'],
    ['too many endpoints', { ...base, srt: Array.from({ length: MAX_ENDPOINTS_PER_KIND + 1 }, () => '10080') }, 'srt'],
    ['overlong server', { ...base, server: 'x'.repeat(MAX_FIELD_LENGTH + 1) }, 'server'],
    ['control characters in service', { ...base, service: 'a\nb' }, 'service'],
    ['ip with a slash', { ...base, ip: '1.2.3.4/8' }, 'ip'],
    ['ip with a space', { ...base, ip: '1.2.3.4 x' }, 'ip'],
    ['device_id not a string', { ...base, device_id: 7 }, 'device_id'],
    ['summaries not an object', { ...base, summaries: [1] }, 'summaries'],
  ];
  for (const [what, body, field] of bad) {
    it(`rejects ${what} naming ${field}`, () => rejects(body, field));
  }

  it('treats empty optional fields as absent', () => {
    const r = parseRegisterBody({ ...base, device_id: '', http: null, summaries: null }, NOW);
    assert.equal(r.device_id, undefined);
    assert.deepEqual(r.http, []);
    assert.equal(r.summaries, undefined);
  });

  it('identity is server-service-pid: a restarted origin is a new record', () => {
    const a = parseRegisterBody({ ...base, service: 'aaaa', pid: '10' }, NOW);
    const b = parseRegisterBody({ ...base, service: 'bbbb', pid: '11' }, NOW);
    assert.equal(a.id, 's-aaaa-10');
    assert.notEqual(a.id, b.id);
  });
});
