import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewritePlaylist, PlaylistError, BAD_PLAYLIST } from '../src/hls/playlist-rewrite.ts';

const ctx = { spbhid: 'd2b525b', proxyAuthorities: ['proxy.example.com:18080'], originAuthorities: ['127.0.0.1:8080'] };

/** Real playlists as each origin writes them, and the playlist the player must receive. */
const cases: Array<{ name: string; input: string; expected: string; tagged: number; foreign?: number }> = [
  {
    name: 'SRS media playlist, hls_ctx off',
    input: [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-MEDIA-SEQUENCE:12',
      '#EXT-X-TARGETDURATION:10',
      '#EXT-X-DISCONTINUITY',
      '#EXTINF:10.000, no desc',
      'livestream-12.ts',
      '#EXTINF:9.960, no desc',
      'livestream-13.ts',
      '',
    ].join('\n'),
    expected: [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-MEDIA-SEQUENCE:12',
      '#EXT-X-TARGETDURATION:10',
      '#EXT-X-DISCONTINUITY',
      '#EXTINF:10.000, no desc',
      'livestream-12.ts?spbhid=d2b525b',
      '#EXTINF:9.960, no desc',
      'livestream-13.ts?spbhid=d2b525b',
      '',
    ].join('\n'),
    tagged: 2,
  },
  {
    name: 'SRS master playlist with hls_ctx (absolute path to the media playlist)',
    input: '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\n/live/livestream.m3u8?hls_ctx=7h1p3e06\n',
    expected: '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\n/live/livestream.m3u8?spbhid=d2b525b&hls_ctx=7h1p3e06\n',
    tagged: 1,
  },
  {
    name: 'SRS media playlist with hls_ctx (query kept after spbhid)',
    input: '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.010, no desc\nlivestream-0.ts?hls_ctx=7h1p3e06\n',
    expected: '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.010, no desc\nlivestream-0.ts?spbhid=d2b525b&hls_ctx=7h1p3e06\n',
    tagged: 1,
  },
  {
    name: 'nginx-rtmp media playlist (as captured from libnginx-mod-rtmp)',
    input: '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:1\n#EXT-X-DISCONTINUITY\n#EXTINF:1.000,\ns1-0.ts\n#EXTINF:1.000,\ns1-1.ts\n',
    expected: '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:1\n#EXT-X-DISCONTINUITY\n#EXTINF:1.000,\ns1-0.ts?spbhid=d2b525b\n#EXTINF:1.000,\ns1-1.ts?spbhid=d2b525b\n',
    tagged: 2,
  },
  {
    name: 'nginx-rtmp variant (master) playlist',
    input: '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=800000\ns1_low/index.m3u8\n#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=2000000\ns1_hi/index.m3u8\n',
    expected: '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=800000\ns1_low/index.m3u8?spbhid=d2b525b\n#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=2000000\ns1_hi/index.m3u8?spbhid=d2b525b\n',
    tagged: 2,
  },
  {
    name: 'fMP4 with EXT-X-MAP and .m4s segments',
    input: '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4.000,\nseg100.m4s\n#EXTINF:4.000,\nseg101.m4s\n',
    expected: '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-MAP:URI="init.mp4?spbhid=d2b525b"\n#EXTINF:4.000,\nseg100.m4s?spbhid=d2b525b\n#EXTINF:4.000,\nseg101.m4s?spbhid=d2b525b\n',
    tagged: 3,
  },
  {
    name: 'byte ranges: one file, EXT-X-BYTERANGE kept, EXT-X-MAP BYTERANGE attribute kept',
    input: '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n#EXT-X-MAP:URI="main.mp4",BYTERANGE="720@0"\n#EXTINF:6.0,\n#EXT-X-BYTERANGE:100000@720\nmain.mp4\n#EXTINF:6.0,\n#EXT-X-BYTERANGE:98000\nmain.mp4\n#EXT-X-ENDLIST\n',
    expected: '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n#EXT-X-MAP:URI="main.mp4?spbhid=d2b525b",BYTERANGE="720@0"\n#EXTINF:6.0,\n#EXT-X-BYTERANGE:100000@720\nmain.mp4?spbhid=d2b525b\n#EXTINF:6.0,\n#EXT-X-BYTERANGE:98000\nmain.mp4?spbhid=d2b525b\n#EXT-X-ENDLIST\n',
    tagged: 3,
  },
  {
    name: 'absolute URIs: on the proxy kept absolute, on the origin made path-absolute, CDN untouched',
    input: '#EXTM3U\n#EXTINF:2,\nhttp://proxy.example.com:18080/live/a-1.ts\n#EXTINF:2,\nhttp://127.0.0.1:8080/live/a-2.ts?x=1\n#EXTINF:2,\nhttps://cdn.example.net/live/a-3.ts\n#EXTINF:2,\n//127.0.0.1:8080/live/a-4.ts\n',
    expected: '#EXTM3U\n#EXTINF:2,\nhttp://proxy.example.com:18080/live/a-1.ts?spbhid=d2b525b\n#EXTINF:2,\n/live/a-2.ts?spbhid=d2b525b&x=1\n#EXTINF:2,\nhttps://cdn.example.net/live/a-3.ts\n#EXTINF:2,\n/live/a-4.ts?spbhid=d2b525b\n',
    tagged: 3,
    foreign: 1,
  },
  {
    name: 'master with EXT-X-MEDIA audio, I-frame playlist and session key',
    input: [
      '#EXTM3U',
      '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="keys/session.key"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,URI="audio/en.m3u8"',
      '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC1",INSTREAM-ID="CC1"',
      '#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aud"',
      'video/720.m3u8',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,CODECS="avc1.4d401f",URI="video/720-iframes.m3u8"',
    ].join('\r\n'),
    expected: [
      '#EXTM3U',
      '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="keys/session.key?spbhid=d2b525b"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,URI="audio/en.m3u8?spbhid=d2b525b"',
      '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC1",INSTREAM-ID="CC1"',
      '#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aud"',
      'video/720.m3u8?spbhid=d2b525b',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,CODECS="avc1.4d401f",URI="video/720-iframes.m3u8?spbhid=d2b525b"',
    ].join('\r\n'),
    tagged: 4,
  },
  {
    name: 'low-latency HLS: parts, preload hint, rendition report; keys with data:/skd: untouched',
    input: [
      '#EXTM3U',
      '#EXT-X-TARGETDURATION:4',
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0',
      '#EXT-X-PART-INF:PART-TARGET=0.33334',
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key-id",KEYFORMAT="com.apple.streamingkeydelivery"',
      '#EXT-X-KEY:METHOD=AES-128,URI="data:text/plain;base64,AAAA"',
      '#EXT-X-MAP:URI="init.mp4"',
      '#EXT-X-PART:DURATION=0.33334,URI="seg9.part0.m4s",INDEPENDENT=YES',
      '#EXTINF:4.0,',
      'seg9.m4s',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg10.part0.m4s"',
      '#EXT-X-RENDITION-REPORT:URI="../audio/index.m3u8",LAST-MSN=9,LAST-PART=2',
    ].join('\n'),
    expected: [
      '#EXTM3U',
      '#EXT-X-TARGETDURATION:4',
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0',
      '#EXT-X-PART-INF:PART-TARGET=0.33334',
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key-id",KEYFORMAT="com.apple.streamingkeydelivery"',
      '#EXT-X-KEY:METHOD=AES-128,URI="data:text/plain;base64,AAAA"',
      '#EXT-X-MAP:URI="init.mp4?spbhid=d2b525b"',
      '#EXT-X-PART:DURATION=0.33334,URI="seg9.part0.m4s?spbhid=d2b525b",INDEPENDENT=YES',
      '#EXTINF:4.0,',
      'seg9.m4s?spbhid=d2b525b',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg10.part0.m4s?spbhid=d2b525b"',
      '#EXT-X-RENDITION-REPORT:URI="../audio/index.m3u8?spbhid=d2b525b",LAST-MSN=9,LAST-PART=2',
    ].join('\n'),
    tagged: 5,
    foreign: 2,
  },
  {
    name: 'audio-only .aac segments, fragment kept after the query, old spbhid replaced',
    input: '#EXTM3U\n#EXTINF:2,\nradio-1.aac\n#EXTINF:2,\nradio-2.aac#t=0\n#EXTINF:2,\nradio-3.aac?spbhid=0ldid00&k=v\n',
    expected: '#EXTM3U\n#EXTINF:2,\nradio-1.aac?spbhid=d2b525b\n#EXTINF:2,\nradio-2.aac?spbhid=d2b525b#t=0\n#EXTINF:2,\nradio-3.aac?spbhid=d2b525b&k=v\n',
    tagged: 3,
  },
  {
    name: 'names that merely contain ".ts" and titles that look like attributes are not touched as text',
    input: '#EXTM3U\n#EXTINF:2,URI="title.ts"\nmy.tsx\n#EXT-X-PROGRAM-DATE-TIME:2024-10-15T00:00:00.000Z\n# a comment with a.ts in it\n',
    expected: '#EXTM3U\n#EXTINF:2,URI="title.ts"\nmy.tsx?spbhid=d2b525b\n#EXT-X-PROGRAM-DATE-TIME:2024-10-15T00:00:00.000Z\n# a comment with a.ts in it\n',
    tagged: 1,
  },
];

for (const c of cases) {
  test(`rewritePlaylist: ${c.name}`, () => {
    const out = rewritePlaylist(c.input, ctx);
    assert.equal(out.text, c.expected);
    assert.equal(out.tagged, c.tagged);
    assert.equal(out.foreign, c.foreign ?? 0);
    assert.equal(out.malformed, 0);
  });
}

test('rewritePlaylist: a byte-order mark before #EXTM3U is accepted and kept', () => {
  const out = rewritePlaylist('\uFEFF#EXTM3U\n#EXTINF:1,\na.ts\n', ctx);
  assert.equal(out.text, '\uFEFF#EXTM3U\n#EXTINF:1,\na.ts?spbhid=d2b525b\n');
});

test('rewritePlaylist: a tag with an unterminated quote is kept as is and counted', () => {
  const out = rewritePlaylist('#EXTM3U\n#EXT-X-MAP:URI="init.mp4\n#EXTINF:1,\na.ts\n', ctx);
  assert.equal(out.text, '#EXTM3U\n#EXT-X-MAP:URI="init.mp4\n#EXTINF:1,\na.ts?spbhid=d2b525b\n');
  assert.equal(out.malformed, 1);
});

test('rewritePlaylist: a body that is not a playlist is a typed error', () => {
  for (const body of ['', '<html>404</html>', 'a.ts\n#EXTM3U\n']) {
    assert.throws(() => rewritePlaylist(body, ctx), (e: unknown) => e instanceof PlaylistError && e.code === BAD_PLAYLIST && e.status === 502);
  }
});

test('rewritePlaylist: a default port in an absolute URI matches the authority without it', () => {
  const out = rewritePlaylist('#EXTM3U\n#EXTINF:1,\nhttp://Proxy.Example.com/live/a.ts\n', { ...ctx, proxyAuthorities: ['proxy.example.com:80'] });
  assert.equal(out.text, '#EXTM3U\n#EXTINF:1,\nhttp://Proxy.Example.com/live/a.ts?spbhid=d2b525b\n');
});
