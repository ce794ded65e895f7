// A stand-in for Jaeger in the compose e2e: accepts OTLP/HTTP traces (JSON or protobuf, optionally
// gzip) at POST /v1/traces on 4318 and records which services sent how many spans. Query it like
// Jaeger (GET /api/services on 16686) or in full (GET /api/stats); GET / on 14269 is the health check.
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

const services = new Map(); // service.name -> span count
const spanNames = new Map(); // span name -> count (bounded)
let requests = 0;
let spans = 0;
let rejected = 0;

function count(service, names) {
  services.set(service, (services.get(service) ?? 0) + names.length);
  spans += names.length;
  for (const n of names) if (spanNames.has(n) || spanNames.size < 1000) spanNames.set(n, (spanNames.get(n) ?? 0) + 1);
}

function fromJson(body) {
  const req = JSON.parse(body.toString('utf8'));
  for (const rs of req.resourceSpans ?? []) {
    const attr = (rs.resource?.attributes ?? []).find((a) => a.key === 'service.name');
    const names = (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((s) => String(s.name)));
    count(attr?.value?.stringValue ?? 'unknown', names);
  }
}

// Minimal protobuf reader: fields of one message as [number, wireType, value] (value: Buffer for
// length-delimited fields, a number otherwise).
function fields(buf) {
  const out = [];
  let i = 0;
  const varint = () => {
    let v = 0;
    let m = 1;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated varint');
      v += (b & 0x7f) * m;
      if (b < 0x80) return v;
      m *= 128;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wt = key & 7;
    if (wt === 0) out.push([no, wt, varint()]);
    else if (wt === 1) (out.push([no, wt, 0]), (i += 8));
    else if (wt === 5) (out.push([no, wt, 0]), (i += 4));
    else if (wt === 2) {
      const len = varint();
      out.push([no, wt, buf.subarray(i, i + len)]);
      i += len;
    } else throw new Error(`wire type ${wt}`);
  }
  return out;
}
const sub = (msg, no) => fields(msg).filter(([n, wt]) => n === no && wt === 2).map(([, , v]) => v);

function fromProtobuf(body) {
  for (const rs of sub(body, 1)) {
    let service = 'unknown';
    for (const res of sub(rs, 1)) {
      for (const kv of sub(res, 1)) {
        if (sub(kv, 1)[0]?.toString('utf8') === 'service.name') service = sub(sub(kv, 2)[0] ?? Buffer.alloc(0), 1)[0]?.toString('utf8') ?? service;
      }
    }
    const names = sub(rs, 2).flatMap((ss) => sub(ss, 2).map((span) => sub(span, 5)[0]?.toString('utf8') ?? ''));
    count(service, names);
  }
}

function json(res, code, obj) {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(obj));
}

function read(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 32 << 20) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const otlp = createServer(async (req, res) => {
  if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/traces') return json(res, 404, { error: 'POST /v1/traces only' });
  try {
    let body = await read(req);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const type = String(req.headers['content-type'] ?? '');
    requests++;
    if (type.includes('json')) {
      fromJson(body);
      json(res, 200, { partialSuccess: {} });
    } else {
      fromProtobuf(body);
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    }
  } catch (err) {
    rejected++;
    console.error(`otlp-receiver: bad request: ${err.message}`);
    json(res, 400, { error: String(err.message) });
  }
});

const query = createServer((req, res) => {
  const path = req.url?.split('?')[0];
  if (path === '/api/services') return json(res, 200, { data: [...services.keys()].sort(), total: services.size });
  if (path === '/api/stats')
    return json(res, 200, { requests, rejected, spans, services: Object.fromEntries(services), spanNames: Object.fromEntries(spanNames) });
  json(res, 404, { error: 'GET /api/services or /api/stats' });
});

const admin = createServer((req, res) => json(res, 200, { status: 'Server available' }));

otlp.listen(4318, () => console.log('otlp-receiver: OTLP/HTTP on :4318, query on :16686, health on :14269'));
query.listen(16686);
admin.listen(14269);
let last = -1;
setInterval(() => {
  if (spans !== last) console.log(`otlp-receiver: ${requests} requests, ${spans} spans from ${[...services.keys()].join(', ') || 'nobody'}`);
  last = spans;
}, 10_000).unref();
const stop = () => {
  for (const s of [otlp, query, admin]) s.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
