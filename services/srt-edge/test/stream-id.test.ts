import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStreamId, streamUrlOf, DEFAULT_STREAM_ID } from '../src/srt/stream-id.ts';
import { StreamIdError } from '../src/errors.ts';

interface Row {
  sid: string | undefined;
  mode: 'publish' | 'request';
  vhost?: string;
  app: string;
  stream: string;
  key: string;
  params?: Array<[string, string]>;
}

// Expectations follow SRS's parser (srs_app_srt_utility.cpp and its unit tests) and the stream URL
// rule every protocol shares (`srt://<h or localhost>/<app>/<stream>` normalised).
const valid: Row[] = [
  { sid: '#!::r=live/livestream,m=publish', mode: 'publish', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream' },
  { sid: '#!::r=live/livestream,m=request', mode: 'request', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream' },
  { sid: '#!::r=live/livestream', mode: 'request', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream' },
  { sid: '#!::m=publish,r=live/livestream', mode: 'publish', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream' },
  { sid: '#!::M=x,r=live/s,m=PUBLISH', mode: 'publish', app: 'live', stream: 's', key: '__defaultVhost__/live/s', params: [['M', 'x']] },
  { sid: '#!::h=vhost.example.com,r=app/stream,m=request', mode: 'request', vhost: 'vhost.example.com', app: 'app', stream: 'stream', key: 'vhost.example.com/app/stream' },
  { sid: '#!::m=request,r=app/stream,h=vhost.example.com', mode: 'request', vhost: 'vhost.example.com', app: 'app', stream: 'stream', key: 'vhost.example.com/app/stream' },
  // A host without a dot is the default vhost, as for RTMP.
  { sid: '#!::h=vhost,r=app/stream,m=request', mode: 'request', vhost: 'vhost', app: 'app', stream: 'stream', key: '__defaultVhost__/app/stream' },
  { sid: '#!::h=1.2.3.4,r=live/s', mode: 'request', vhost: '1.2.3.4', app: 'live', stream: 's', key: '__defaultVhost__/live/s' },
  { sid: '#!::h=Example.COM,r=live/s', mode: 'request', vhost: 'Example.COM', app: 'live', stream: 's', key: 'Example.COM/live/s' },
  // u=, s=, t= and any other keys are kept, in order, and never route.
  {
    sid: '#!::u=alice,r=live/s,s=sess1,t=stream,m=publish',
    mode: 'publish', app: 'live', stream: 's', key: '__defaultVhost__/live/s',
    params: [['u', 'alice'], ['s', 'sess1'], ['t', 'stream']],
  },
  // Anchored keys: `user=bob` is not `r=bob`, `auth=x` is not `h=x`.
  { sid: '#!::user=bob,r=live/s', mode: 'request', app: 'live', stream: 's', key: '__defaultVhost__/live/s', params: [['user', 'bob']] },
  { sid: '#!::auth=x.com,r=live/s,m=publish', mode: 'publish', app: 'live', stream: 's', key: '__defaultVhost__/live/s', params: [['auth', 'x.com']] },
  { sid: '#!::rr=live/wrong,r=live/right', mode: 'request', app: 'live', stream: 'right', key: '__defaultVhost__/live/right', params: [['rr', 'live/wrong']] },
  // Query strings inside the keyed form become parameters (SRS replaces `?` by `,`).
  {
    sid: '#!::r=live/livestream?key1=val1,key2=val2', mode: 'request', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream',
    params: [['key1', 'val1'], ['key2', 'val2']],
  },
  { sid: '#!::r=live/s,secret=a&token=b;x=y', mode: 'request', app: 'live', stream: 's', key: '__defaultVhost__/live/s', params: [['secret', 'a'], ['token', 'b'], ['x', 'y']] },
  // Older style: the path in h= (SRS issue 2893 "compatible").
  { sid: '#!::h=live/livestream,m=publish', mode: 'publish', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream' },
  { sid: '#!::h=live/livestream,m=request', mode: 'request', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream' },
  { sid: '#!::h=srs.srt.com.cn/live/livestream,m=request', mode: 'request', vhost: 'srs.srt.com.cn', app: 'live', stream: 'livestream', key: 'srs.srt.com.cn/live/livestream' },
  { sid: '#!::h=live/livestream?secret=d6d2be37,m=publish', mode: 'publish', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream', params: [['secret', 'd6d2be37']] },
  // r= wins over a path in h=; the vhost from h= stays.
  { sid: '#!::h=v.com/a/b,r=live/s', mode: 'request', vhost: 'v.com', app: 'live', stream: 's', key: 'v.com/live/s' },
  // A repeated key keeps its last value, as SRS's map does.
  { sid: '#!::r=live/first,r=live/second', mode: 'request', app: 'live', stream: 'second', key: '__defaultVhost__/live/second' },
  // Resource without an app: SRS's default app.
  { sid: '#!::r=livestream,m=publish', mode: 'publish', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream' },
  { sid: '#!::r=/live/s', mode: 'request', app: 'live', stream: 's', key: '__defaultVhost__/live/s' },
  { sid: '#!::r=/s', mode: 'request', app: 'live', stream: 's', key: '__defaultVhost__/live/s' },
  { sid: '#!::r=live/a%20b', mode: 'request', app: 'live', stream: 'a%20b', key: '__defaultVhost__/live/a b' },
  // Legacy plain forms.
  { sid: 'live/livestream', mode: 'request', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream' },
  { sid: 'livestream', mode: 'request', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream' },
  { sid: 'app/sub/stream', mode: 'request', app: 'app', stream: 'sub/stream', key: '__defaultVhost__/app/sub/stream' },
  {
    sid: '/live/livestream?vhost=v.example.com', mode: 'request', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream',
    params: [['vhost', 'v.example.com']],
  },
  { sid: 'live/livestream?secret=x&b', mode: 'request', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream', params: [['secret', 'x'], ['b', '']] },
  // No stream id at all: SRS substitutes its default publish id.
  { sid: undefined, mode: 'publish', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream' },
  { sid: '', mode: 'publish', app: 'live', stream: 'livestream', key: '__defaultVhost__/live/livestream' },
];

for (const row of valid) {
  test(`stream id ${JSON.stringify(row.sid)}`, () => {
    const info = parseStreamId(row.sid);
    assert.equal(info.mode, row.mode);
    assert.equal(info.vhost, row.vhost);
    assert.equal(info.app, row.app);
    assert.equal(info.stream, row.stream);
    assert.deepEqual(info.params, row.params ?? []);
    assert.equal(streamUrlOf(info), row.key);
  });
}

const invalid: Array<[string, RegExp]> = [
  ['#!::m=publish', /no resource/],
  ['#!::', /no resource/],
  ['#!::u=alice,t=stream', /no resource/],
  ['#!::r=,m=publish', /no resource/],
  ['#!::h=vhost.com,m=request', /no resource/],
  ['#!::r=live/s,m=play', /unknown mode/],
  ['#!::r=live/s,m=', /unknown mode/],
  ['#!::r=live/', /empty stream/],
  ['live/', /empty stream/],
  ['#!::h=bad host,r=live/s', /invalid vhost/],
  ['#!::h=a@b.com,r=live/s', /invalid vhost/],
  ['#!::r=live/a#b', /forbidden/],
  ['live/a\u0001b', /forbidden/],
  ['#!::r=live/a%zz', /stream URL/],
  [`#!::r=live/${'x'.repeat(600)}`, /longer than/],
];

for (const [sid, re] of invalid) {
  test(`invalid stream id ${JSON.stringify(sid.slice(0, 40))}`, () => {
    assert.throws(
      () => streamUrlOf(parseStreamId(sid)),
      (err: unknown) => err instanceof StreamIdError && err.code === 'SRSP_ERR_BAD_STREAM_ID' && re.test(err.message),
    );
  });
}

test('the default stream id is the one SRS uses', () => {
  assert.equal(DEFAULT_STREAM_ID, '#!::r=live/livestream,m=publish');
});
