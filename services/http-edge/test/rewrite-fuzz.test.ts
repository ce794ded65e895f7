import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewritePlaylist, PlaylistError } from '../src/hls/playlist-rewrite.ts';
import { rewriteManifest, ManifestError } from '../src/dash/mpd-rewrite.ts';
import { route, streamKeyOf } from '../src/route.ts';
import { StreamUrlError } from '@srs-proxy/balancer';

/** Deterministic PRNG so a failure is reproducible from the printed seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [1, 2, 3, 0xdecafbad];
const ITERATIONS = 2000;
const ctx = { spbhid: 'f00ba47', proxyAuthorities: ['p:1'], originAuthorities: ['o:2'] };

const PLAYLIST_PIECES = [
  '#EXTM3U', '#EXT-X-MAP:URI="', 'init.mp4', '"', ',', '#EXTINF:', '10.0', '\n', '\r\n', 'seg.ts', '?', '&', '#',
  'http://', 'o:2', 'p:1', '/', '..', 'spbhid=', 'URI=', '#EXT-X-KEY:', '#EXT-X-PART:', 'BYTERANGE="1@0"', '"', ' ',
  '\uFEFF', '\u0000', 'é', '%zz', '//', 'data:', '#EXT-X-MEDIA:TYPE=AUDIO,', '=', '=="', 'URI="', '""',
];
const MPD_PIECES = [
  '<MPD>', '</MPD>', '<', '>', '/>', '"', "'", '=', ' media=', ' initialization=', '<SegmentTemplate', '<BaseURL>', '</BaseURL>',
  '<!--', '-->', '<![CDATA[', ']]>', 'seg-$Number$.m4s', '&amp;', '?', 'http://o:2/', ' ', '\n', '<SegmentURL', ' sourceURL=',
  '<Location>', '<x:MPD', 'é', '\u0000', '<?xml?>', '<!DOCTYPE x>',
];
const PATH_PIECES = ['/', 'live', '.flv', '.ts', '.m3u8', '.mpd', '?', '&', 'spbhid=', 'abc', '%', '%2e', '%2f', '..', '.', '%00', 'app=', 'stream=', '#', ' ', 'é', '%C3%A9', '%FF'];

function build(rand: () => number, pieces: string[], maxPieces: number): string {
  let s = '';
  const n = Math.floor(rand() * maxPieces);
  for (let i = 0; i < n; i++) s += pieces[Math.floor(rand() * pieces.length)];
  return s;
}

/** Flips, inserts and deletes characters of a valid document. */
function mutate(rand: () => number, text: string): string {
  const chars = [...text];
  const edits = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (chars.length + 1));
    const op = rand();
    if (op < 0.33) chars.splice(at, 1);
    else if (op < 0.66) chars.splice(at, 0, String.fromCharCode(Math.floor(rand() * 128)));
    else chars.splice(at, 0, ...'"=,#?&<>'.charAt(Math.floor(rand() * 8)));
  }
  return chars.join('');
}

const VALID_PLAYLIST = '#EXTM3U\n#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"\n#EXT-X-KEY:METHOD=AES-128,URI="k.key"\n#EXTINF:4,\nseg1.m4s?hls_ctx=x\n#EXT-X-PART:DURATION=1,URI="p.m4s"\n';
const VALID_MPD = '<?xml version="1.0"?><MPD><BaseURL>http://o:2/live/</BaseURL><SegmentTemplate media="s-$Time$.m4v" initialization="i.m4v"/></MPD>';

for (const seed of SEEDS) {
  test(`fuzz playlists (seed ${seed}): only PlaylistError escapes, every tagged URI carries the id`, () => {
    const rand = prng(seed);
    for (let i = 0; i < ITERATIONS; i++) {
      const input = i % 2 === 0 ? build(rand, PLAYLIST_PIECES, 40) : mutate(rand, VALID_PLAYLIST);
      try {
        const out = rewritePlaylist(input, ctx);
        assert.equal(typeof out.text, 'string');
        assert.ok(out.text.split('spbhid=f00ba47').length - 1 >= out.tagged, `seed ${seed} iteration ${i}`);
        // Rewriting is line-preserving.
        assert.equal(out.text.split('\n').length, input.split('\n').length, `seed ${seed} iteration ${i}`);
      } catch (err) {
        assert.ok(err instanceof PlaylistError, `seed ${seed} iteration ${i}: ${String(err)} for ${JSON.stringify(input)}`);
      }
    }
  });

  test(`fuzz manifests (seed ${seed}): only ManifestError escapes`, () => {
    const rand = prng(seed);
    for (let i = 0; i < ITERATIONS; i++) {
      const input = i % 2 === 0 ? `<MPD>${build(rand, MPD_PIECES, 40)}` : mutate(rand, VALID_MPD);
      try {
        const out = rewriteManifest(input, ctx);
        assert.equal(typeof out.text, 'string');
        assert.ok(out.text.length >= input.length, `seed ${seed} iteration ${i}`);
      } catch (err) {
        assert.ok(err instanceof ManifestError, `seed ${seed} iteration ${i}: ${String(err)} for ${JSON.stringify(input)}`);
      }
    }
  });

  test(`fuzz paths (seed ${seed}): routing never throws; keys fail only with StreamUrlError`, () => {
    const rand = prng(seed);
    for (let i = 0; i < ITERATIONS; i++) {
      const target = (rand() < 0.9 ? '/' : '') + build(rand, PATH_PIECES, 16);
      const r = route(target);
      if (!r.ok) continue;
      try {
        const key = streamKeyOf(r, rand() < 0.5 ? 'h.example.com:1' : undefined);
        assert.equal(typeof key.key, 'string');
      } catch (err) {
        assert.ok(err instanceof StreamUrlError, `seed ${seed} iteration ${i}: ${String(err)} for ${JSON.stringify(target)}`);
      }
    }
  });
}
