import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { extractIce, rewriteAnswer } from '../src/sdp-answer.ts';
import { SdpError, BAD_SDP } from '../src/errors.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const candidates = (sdp: string) => sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));

interface Row {
  name: string;
  file: string;
  ip: string | undefined;
  ufrag: string;
  pwd: string;
  originPorts: number[];
  /** Candidate lines expected after rewriting, exactly. */
  expected: string[];
  dropped: { tcp: number; other: number; duplicate: number; malformed: number };
  /** m= ports after rewriting, in order. */
  mPorts: string[];
  cLines: string[];
}

const PORT = 18000;
const table: Row[] = [
  {
    name: 'SRS 6 answer, origin IPs kept (upstream behaviour), TCP candidates dropped',
    file: 'srs-answer.sdp',
    ip: undefined,
    ufrag: '0o7s4d72',
    pwd: '5s9t21d6r26wvb89n40b87u62n3z5dk0',
    originPorts: [8000],
    expected: [
      'a=candidate:0 1 udp 2130706431 192.168.3.10 18000 typ host generation 0',
      'a=candidate:2 1 udp 2130706431 10.0.0.5 18000 typ host generation 0',
      'a=candidate:0 1 udp 2130706431 192.168.3.10 18000 typ host generation 0',
      'a=candidate:2 1 udp 2130706431 10.0.0.5 18000 typ host generation 0',
    ],
    dropped: { tcp: 2, other: 0, duplicate: 0, malformed: 0 },
    mPorts: ['9', '9'],
    cLines: ['c=IN IP4 0.0.0.0', 'c=IN IP4 0.0.0.0'],
  },
  {
    name: 'SRS 6 answer with PROXY_RTC_CANDIDATE: both origin IPs collapse into one candidate per section',
    file: 'srs-answer.sdp',
    ip: '198.51.100.9',
    ufrag: '0o7s4d72',
    pwd: '5s9t21d6r26wvb89n40b87u62n3z5dk0',
    originPorts: [8000],
    expected: [
      'a=candidate:0 1 udp 2130706431 198.51.100.9 18000 typ host generation 0',
      'a=candidate:0 1 udp 2130706431 198.51.100.9 18000 typ host generation 0',
    ],
    dropped: { tcp: 2, other: 0, duplicate: 2, malformed: 0 },
    mPorts: ['9', '9'],
    cLines: ['c=IN IP4 0.0.0.0', 'c=IN IP4 0.0.0.0'],
  },
  {
    name: 'Chrome answer: host + srflx kept on the proxy port, RTCP component and TCP dropped, m=/c= follow',
    file: 'chrome-answer.sdp',
    ip: '2001:db8::7',
    ufrag: 'Yx3M',
    pwd: 'mEhO2oZc1E5yGGWcRp4ofnvo',
    originPorts: [54397],
    expected: [
      'a=candidate:3847120745 1 udp 2122260223 2001:db8::7 18000 typ host generation 0 network-id 1 network-cost 10',
    ],
    dropped: { tcp: 1, other: 1, duplicate: 1, malformed: 0 },
    mPorts: ['18000', '18000'],
    cLines: ['c=IN IP6 2001:db8::7', 'c=IN IP6 2001:db8::7'],
  },
  {
    name: 'Chrome answer without a candidate IP: each address kept',
    file: 'chrome-answer.sdp',
    ip: undefined,
    ufrag: 'Yx3M',
    pwd: 'mEhO2oZc1E5yGGWcRp4ofnvo',
    originPorts: [54397],
    expected: [
      'a=candidate:3847120745 1 udp 2122260223 192.168.1.23 18000 typ host generation 0 network-id 1 network-cost 10',
      'a=candidate:1352479349 1 udp 1686052607 203.0.113.7 18000 typ srflx raddr 192.168.1.23 rport 54397 generation 0 network-id 1 network-cost 10',
    ],
    dropped: { tcp: 1, other: 1, duplicate: 0, malformed: 0 },
    mPorts: ['18000', '18000'],
    cLines: ['c=IN IP4 203.0.113.7', 'c=IN IP4 203.0.113.7'],
  },
  {
    name: 'libdatachannel answer (captured): uppercase UDP, default candidate in m=/c=',
    file: 'libdatachannel-answer.sdp',
    ip: '192.0.2.44',
    ufrag: 'Q2HV',
    pwd: 'bU7OJi00f9WGYGBJPVIAaw',
    originPorts: [45000],
    expected: ['a=candidate:1 1 UDP 2114977791 192.0.2.44 18000 typ host'],
    dropped: { tcp: 0, other: 0, duplicate: 0, malformed: 0 },
    mPorts: ['18000', '18000'],
    cLines: ['c=IN IP4 192.0.2.44', 'c=IN IP4 192.0.2.44'],
  },
];

for (const row of table) {
  test(`rewrite: ${row.name}`, () => {
    const input = fixture(row.file);
    const out = rewriteAnswer(input, { port: PORT, ip: row.ip });
    assert.deepEqual(out.ice, { ufrag: row.ufrag, pwd: row.pwd });
    assert.deepEqual(out.originPorts, row.originPorts);
    assert.deepEqual(candidates(out.sdp), row.expected);
    assert.equal(out.candidates, row.expected.length);
    assert.deepEqual(out.dropped, row.dropped);
    const lines = out.sdp.split('\r\n');
    assert.deepEqual(lines.filter((l) => l.startsWith('m=')).map((l) => l.split(' ')[1]), row.mPorts);
    assert.deepEqual(lines.filter((l) => l.startsWith('c=')), row.cLines);
    // Line endings and every line that is not about addresses are unchanged.
    assert.ok(out.sdp.endsWith('\r\n'));
    assert.ok(!/[^\r]\n/.test(out.sdp));
    const untouched = (s: string) => s.split('\r\n').filter((l) => !/^(a=candidate:|m=|c=|a=rtcp:)/.test(l));
    assert.deepEqual(untouched(out.sdp), untouched(input));
    // No UDP port of the origin survives anywhere in a candidate, and no tcp candidate remains.
    for (const c of candidates(out.sdp)) {
      assert.equal(c.split(' ')[5], String(PORT));
      assert.match(c.split(' ')[2]!, /^udp$/i);
    }
  });
}

test('rewrite keeps LF line endings when the origin used them', () => {
  const lf = fixture('libdatachannel-answer.sdp').replace(/\r\n/g, '\n');
  const out = rewriteAnswer(lf, { port: 4000, ip: undefined });
  assert.ok(!out.sdp.includes('\r'));
  assert.ok(out.sdp.includes('a=candidate:1 1 UDP 2114977791 127.0.0.1 4000 typ host\n'));
});

test('a rejected m-section (port 0) keeps port 0', () => {
  const sdp = fixture('libdatachannel-answer.sdp').replace('m=audio 45000', 'm=audio 0');
  const out = rewriteAnswer(sdp, { port: 4000, ip: undefined });
  assert.ok(out.sdp.includes('m=audio 0 UDP/TLS/RTP/SAVPF 111'));
  assert.ok(out.sdp.includes('m=video 4000 UDP/TLS/RTP/SAVPF 96'));
});

test('malformed candidate lines are dropped, not copied', () => {
  const sdp = fixture('srs-answer.sdp').replace(
    'a=candidate:2 1 udp 2130706431 10.0.0.5 8000 typ host generation 0\r\nm=video',
    'a=candidate:9 1 udp 1 10.0.0.5 99999 typ host\r\na=candidate:garbage\r\nm=video',
  );
  const out = rewriteAnswer(sdp, { port: 4000, ip: undefined });
  assert.equal(out.dropped.malformed, 2);
  assert.ok(!out.sdp.includes('99999'));
  assert.ok(!out.sdp.includes('garbage'));
});

test('an answer without ICE credentials or UDP candidates is a typed error', () => {
  const srs = fixture('srs-answer.sdp');
  const noUfrag = srs.replace(/a=ice-ufrag:[^\r]*\r\n/g, '');
  assert.throws(() => rewriteAnswer(noUfrag, { port: 1, ip: undefined }), (e: unknown) => e instanceof SdpError && e.code === BAD_SDP && /ice-ufrag/.test(e.message));
  const noPwd = srs.replace(/a=ice-pwd:[^\r]*\r\n/g, '');
  assert.throws(() => rewriteAnswer(noPwd, { port: 1, ip: undefined }), /no ice-pwd/);
  const tcpOnly = srs.replace(/a=candidate:\d 1 udp[^\r]*\r\n/g, '');
  assert.throws(() => rewriteAnswer(tcpOnly, { port: 1, ip: undefined }), /no UDP candidate/);
  assert.throws(() => rewriteAnswer('', { port: 1, ip: undefined }), SdpError);
});

test('extractIce reads offers from OBS, Chrome and libdatachannel', () => {
  assert.deepEqual(extractIce(fixture('obs-offer.sdp')), { ufrag: 'WoaZ', pwd: 'h4NTvz5MvxMtV6GbD4F6GW' });
  assert.deepEqual(extractIce(fixture('chrome-offer.sdp')), { ufrag: 'k9+/', pwd: 'pNf1wB0hUOkNP3ogb4sT+W1E' });
  assert.deepEqual(extractIce(fixture('libdatachannel-answer.sdp')), { ufrag: 'Q2HV', pwd: 'bU7OJi00f9WGYGBJPVIAaw' });
});

test('extractIce refuses ufrags that cannot form a STUN username', () => {
  const sdp = (ufrag: string) => `v=0\r\na=ice-ufrag:${ufrag}\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n`;
  assert.throws(() => extractIce(sdp('ab:cd')), /invalid ice-ufrag/);
  assert.throws(() => extractIce(sdp('x'.repeat(257))), /invalid ice-ufrag/);
  assert.throws(() => extractIce('v=0\r\n', 'offer'), /no ice-ufrag in offer/);
  assert.equal(extractIce(sdp('x'.repeat(256))).ufrag.length, 256);
});
