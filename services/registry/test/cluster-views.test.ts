import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BAD_MESSAGE } from '@srs-proxy/bus';
import { ClusterQueryError, decodeCursor, encodeCursor, parseStreamQuery } from '../src/cluster-query.ts';
import { EdgeDirectory, parseEdgeAnnouncement } from '../src/edge-directory.ts';
import { kbpsBetween, originLoad, trafficSample } from '../src/origin-load.ts';
import { MAX_LIVE_ITEMS, parseSrsClients, parseSrsStreams, SrsReplyError } from '../src/srs-api.ts';
import { TrafficSamples } from '../src/traffic-samples.ts';
import { SRS_CLIENTS, SRS_STREAMS, srsSummaries } from './srs-api-origin.ts';

describe('origin load (pure)', () => {
  it('reads SRS summaries as percentages and tolerates garbage', () => {
    assert.equal(originLoad(undefined), null);
    assert.equal(originLoad({ data: 'busy' }), null);
    const l = originLoad({ data: { system: { cpu_percent: NaN, load_1m: -1, conn_srs: 'x' }, self: {} } });
    assert.deepEqual(l, { cpu_percent: null, srs_cpu_percent: null, load_1m: null, cpus: null, mem_percent: null, srs_mem_kbyte: null, connections: null, kbps: null });
    assert.equal(originLoad(srsSummaries(1, 1, 1))?.mem_percent, 18);
  });

  it('computes kbit/s from two samples, and nothing across a counter reset or from one sample', () => {
    const a = trafficSample(srsSummaries(1_000, 0, 0))!;
    assert.deepEqual(kbpsBetween(a, trafficSample(srsSummaries(2_000, 125_000, 250_000))!), { recv: 1000, send: 2000 });
    assert.equal(kbpsBetween(a, trafficSample(srsSummaries(1_000, 5, 5))!), null, 'same instant');
    assert.equal(kbpsBetween(trafficSample(srsSummaries(1_000, 500, 500))!, trafficSample(srsSummaries(2_000, 5, 5))!), null, 'SRS restarted');
    const t = new TrafficSamples();
    t.observe('o', srsSummaries(1_000, 0, 0));
    assert.equal(t.kbps('o'), null);
    t.observe('o', srsSummaries(1_000, 0, 0));
    assert.equal(t.kbps('o'), null, 'a repeated sample is not a second one');
    t.observe('o', srsSummaries(3_000, 250_000, 0));
    assert.deepEqual(t.kbps('o'), { recv: 1000, send: 0 });
    t.forget('o');
    assert.equal(t.kbps('o'), null);
  });
});

describe('SRS API replies (pure)', () => {
  it('keys streams and clients the way the proxy does', () => {
    const streams = parseSrsStreams(SRS_STREAMS);
    assert.equal(streams[0]!.stream_url, '__defaultVhost__/live/livestream');
    const clients = parseSrsClients(SRS_CLIENTS, streams);
    assert.ok(clients.every((c) => c.stream_url === '__defaultVhost__/live/livestream'));
    const domain = parseSrsStreams({ code: 0, streams: [{ id: 's', name: 'x', app: 'live', tcUrl: 'rtmp://example.com/live' }] });
    assert.equal(domain[0]!.stream_url, 'example.com/live/x', 'a domain vhost as the proxy keys it');
  });

  it('rejects replies that are not SRS lists, and caps long ones', () => {
    for (const bad of [null, [], { code: 1000, streams: [] }, { code: 0 }, { code: 0, streams: {} }]) {
      assert.throws(() => parseSrsStreams(bad), SrsReplyError);
    }
    const many = { code: 0, streams: Array.from({ length: MAX_LIVE_ITEMS + 5 }, (_, i) => ({ id: String(i), app: 'a', name: String(i) })) };
    assert.equal(parseSrsStreams(many).length, MAX_LIVE_ITEMS);
    assert.deepEqual(parseSrsStreams({ code: 0, streams: [7, 'x', { app: 1 }] }).map((s) => s.stream_url), ['']);
  });
});

describe('cluster queries (pure)', () => {
  it('round-trips cursors and refuses forged ones', () => {
    const url = '__defaultVhost__/live/é?x';
    assert.equal(decodeCursor(encodeCursor(url)), url);
    for (const bad of ['', '+/', 'Zm9v=', 'Zm9v_']) assert.throws(() => decodeCursor(bad), ClusterQueryError);
  });

  it('parses limits and filters, naming the bad parameter', () => {
    assert.deepEqual(parseStreamQuery({}), { limit: 100 });
    assert.deepEqual(parseStreamQuery({ limit: '5', app: 'live', vhost: 'v', origin: 'o' }), { limit: 5, app: 'live', vhost: 'v', origin_id: 'o' });
    assert.throws(() => parseStreamQuery({ app: '\u0001' }), (e: unknown) => e instanceof ClusterQueryError && e.field === 'app');
    assert.throws(() => parseStreamQuery({ limit: '1e3' }), (e: unknown) => e instanceof ClusterQueryError && e.field === 'limit');
  });
});

describe('edge directory (injected clock)', () => {
  const base = { v: 1, id: 'e', role: 'rtmp-edge', version: '1.5.0', host: 'h', listen: { rtmp: ':1935' }, pid: 1, sessions: 0, started_at: 0, at: 0, expires_in_ms: 1_000, streams: [] };

  it('validates announcements from the bus', () => {
    assert.equal(parseEdgeAnnouncement(base).id, 'e');
    for (const bad of [null, { ...base, v: 2 }, { ...base, listen: { 'Bad Key': 'x' } }, { ...base, sessions: -1 }, { ...base, streams: [{ stream_url: 's', protocol: 'rtmp', publishers: 1 }] }]) {
      assert.throws(() => parseEdgeAnnouncement(bad), (e: unknown) => (e as { code?: string }).code === BAD_MESSAGE);
    }
    assert.equal(parseEdgeAnnouncement({ ...base, expires_in_ms: 86_400_000 }).expires_in_ms, 300_000, 'expiry capped');
  });

  it('expires an edge by its own expiry on the registry clock', () => {
    let t = 0;
    const d = new EdgeDirectory(() => t);
    d.observe(parseEdgeAnnouncement({ ...base, streams: [{ stream_url: 's', protocol: 'rtmp', publishers: 1, players: 0 }] }));
    assert.equal(d.list().length, 1);
    assert.deepEqual([...d.totals()], [['s', { publishers: 1, players: 0, protocols: ['rtmp'] }]]);
    t = 999;
    assert.equal(d.list().length, 1);
    t = 1_000;
    assert.equal(d.list().length, 0);
    assert.deepEqual(d.sessionsOf('s'), []);
  });
});
