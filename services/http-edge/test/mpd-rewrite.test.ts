import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteManifest, ManifestError, BAD_MANIFEST } from '../src/dash/mpd-rewrite.ts';

const ctx = { spbhid: 'abc1234', proxyAuthorities: ['proxy:18080'], originAuthorities: ['127.0.0.1:8080'] };

/** Captured from libnginx-mod-rtmp (`dash on`), trimmed to one representation per adaptation set. */
const NGINX_MPD = `<?xml version="1.0"?>
<MPD
    type="dynamic"
    xmlns="urn:mpeg:dash:schema:mpd:2011"
    minimumUpdatePeriod="PT2S"
    profiles="urn:hbbtv:dash:profile:isoff-live:2012,urn:mpeg:dash:profile:isoff-live:2011">
  <Period start="PT0S" id="dash">
    <AdaptationSet id="1" segmentAlignment="true">
      <Representation id="s1_H264" mimeType="video/mp4" codecs="avc1.f4000d" bandwidth="0">
        <SegmentTemplate
            timescale="1000"
            media="s1-$Time$.m4v"
            initialization="s1-init.m4v">
          <SegmentTimeline>
             <S t="0" d="2023"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="2" segmentAlignment="true">
      <Representation id="s1_AAC" mimeType="audio/mp4" codecs="mp4a.40.2" bandwidth="67000">
        <SegmentTemplate timescale="1000" media="s1-$Time$.m4a" initialization="s1-init.m4a">
          <SegmentTimeline><S t="0" d="2023"/></SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
`;

test('rewriteManifest: nginx-rtmp templates get the session id, everything else byte for byte', () => {
  const out = rewriteManifest(NGINX_MPD, ctx);
  const expected = NGINX_MPD
    .replace('media="s1-$Time$.m4v"', 'media="s1-$Time$.m4v?spbhid=abc1234"')
    .replace('initialization="s1-init.m4v"', 'initialization="s1-init.m4v?spbhid=abc1234"')
    .replace('media="s1-$Time$.m4a"', 'media="s1-$Time$.m4a?spbhid=abc1234"')
    .replace('initialization="s1-init.m4a"', 'initialization="s1-init.m4a?spbhid=abc1234"');
  assert.equal(out.text, expected);
  assert.equal(out.tagged, 4);
});

test('rewriteManifest: SRS-style manifest with BaseURL, $Number$ templates and an existing query', () => {
  const input = `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic">
  <BaseURL>http://127.0.0.1:8080/live/</BaseURL>
  <Location>http://127.0.0.1:8080/live/livestream.mpd?token=a&amp;b=c</Location>
  <Period id="0"><AdaptationSet mimeType="video/mp4">
    <SegmentTemplate media='livestream-video-$Number%05d$.m4s?token=a&amp;b=c' initialization="livestream-video-init.mp4" startNumber="1"/>
  </AdaptationSet></Period>
</MPD>`;
  const out = rewriteManifest(input, ctx);
  assert.equal(out.text, `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic">
  <BaseURL>/live/?spbhid=abc1234</BaseURL>
  <Location>/live/livestream.mpd?spbhid=abc1234&amp;token=a&amp;b=c</Location>
  <Period id="0"><AdaptationSet mimeType="video/mp4">
    <SegmentTemplate media='livestream-video-$Number%05d$.m4s?spbhid=abc1234&amp;token=a&amp;b=c' initialization="livestream-video-init.mp4?spbhid=abc1234" startNumber="1"/>
  </AdaptationSet></Period>
</MPD>`);
  assert.equal(out.tagged, 4);
});

test('rewriteManifest: segment lists, index references, namespaced elements; CDN BaseURL and comments untouched', () => {
  const input = `<mpd:MPD xmlns:mpd="urn:mpeg:dash:schema:mpd:2011">
<!-- <SegmentURL media="commented.m4s"/> -->
<BaseURL>https://cdn.example.net/vod/</BaseURL>
<SegmentList duration="4">
  <mpd:Initialization sourceURL="init.mp4" range="0-719"/>
  <RepresentationIndex sourceURL="index.sidx"/>
  <SegmentURL media="seg-1.m4s" mediaRange="720-1000" index="idx-1.sidx"/>
  <SegmentURL media="a&gt;b.m4s"/>
</SegmentList>
<![CDATA[ media="cdata.m4s" ]]>
</mpd:MPD>`;
  const out = rewriteManifest(input, ctx);
  assert.equal(out.text, `<mpd:MPD xmlns:mpd="urn:mpeg:dash:schema:mpd:2011">
<!-- <SegmentURL media="commented.m4s"/> -->
<BaseURL>https://cdn.example.net/vod/</BaseURL>
<SegmentList duration="4">
  <mpd:Initialization sourceURL="init.mp4?spbhid=abc1234" range="0-719"/>
  <RepresentationIndex sourceURL="index.sidx?spbhid=abc1234"/>
  <SegmentURL media="seg-1.m4s?spbhid=abc1234" mediaRange="720-1000" index="idx-1.sidx?spbhid=abc1234"/>
  <SegmentURL media="a&gt;b.m4s?spbhid=abc1234"/>
</SegmentList>
<![CDATA[ media="cdata.m4s" ]]>
</mpd:MPD>`);
  assert.equal(out.tagged, 5);
  assert.equal(out.foreign, 1);
});

test('rewriteManifest: a quoted ">" inside an attribute does not end the tag early', () => {
  const out = rewriteManifest('<MPD><SegmentTemplate title="x>y" media="m.m4s"/></MPD>', ctx);
  assert.equal(out.text, '<MPD><SegmentTemplate title="x>y" media="m.m4s?spbhid=abc1234"/></MPD>');
});

test('rewriteManifest: a body that is not an MPD is a typed error', () => {
  for (const body of ['', '#EXTM3U\n', '<html><body>MPD</body></html>']) {
    assert.throws(() => rewriteManifest(body, ctx), (e: unknown) => e instanceof ManifestError && e.code === BAD_MANIFEST);
  }
});
