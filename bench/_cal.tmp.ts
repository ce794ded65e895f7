import { createServer, request as httpRequest, Agent as HttpAgent } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, Pool } from 'undici';
import { startNginxOrigin } from '@srs-proxy/test';
const nginx = await startNginxOrigin();
mkdirSync(join(nginx.dir, 'bench'));
writeFileSync(join(nginx.dir, 'bench', 'b.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:2\n' + Array.from({length:6},(_, i)=>`#EXTINF:1.5,\nb-${i}.ts\n`).join(''));
const mode = process.argv[2];
const agent = new Agent({ keepAliveTimeout: 4000 });
const pool = new Pool(`http://127.0.0.1:${nginx.httpPort}`, { keepAliveTimeout: 4000 });
const hagent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const s = createServer(async (req, res) => {
  if (mode === 'stream') {
    await agent.stream({ origin: `http://127.0.0.1:${nginx.httpPort}`, path: '/bench/b.m3u8', method: 'GET' }, ({ statusCode, headers }) => {
      res.writeHead(statusCode, {'content-type': String(headers['content-type']), 'content-length': String(headers['content-length'])});
      return res;
    });
  } else if (mode === 'dispatch') {
    const chunks: Buffer[] = []; let ct = '';
    agent.dispatch({ origin: `http://127.0.0.1:${nginx.httpPort}`, path: '/bench/b.m3u8', method: 'GET' }, {
      onConnect() {}, onError(e: Error) { res.destroy(); },
      onHeaders(status: number, raw: Buffer[]) { for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toString().toLowerCase() === 'content-type') ct = raw[i+1]!.toString(); return true; },
      onData(c: Buffer) { chunks.push(c); return true; },
      onComplete() { const b = Buffer.concat(chunks); res.writeHead(200, {'content-type': ct, 'content-length': b.length}); res.end(b); },
    } as any);
  } else if (mode === 'undici' || mode === 'pool') {
    const d = mode === 'pool' ? pool : agent;
    const r = await d.request({ origin: `http://127.0.0.1:${nginx.httpPort}`, path: '/bench/b.m3u8', method: 'GET' });
    const chunks: Buffer[] = []; for await (const c of r.body) chunks.push(c as Buffer);
    const b = Buffer.concat(chunks);
    res.writeHead(200, {'content-type': String(r.headers['content-type']), 'content-length': b.length}); res.end(b);
  } else {
    const r = httpRequest({ host: '127.0.0.1', port: nginx.httpPort, path: '/bench/b.m3u8', agent: hagent }, (o) => {
      const chunks: Buffer[] = []; o.on('data', (c) => chunks.push(c)); o.on('end', () => { const b = Buffer.concat(chunks); res.writeHead(200, {'content-type': String(o.headers['content-type']), 'content-length': b.length}); res.end(b); });
    });
    r.end();
  }
});
s.listen(0, '127.0.0.1', async () => {
  const port = (s.address() as any).port;
  const child = (await import('node:child_process')).spawn(process.execPath, ['bench/node_modules/autocannon/autocannon.js', '-c', '32', '-d', '5', `http://127.0.0.1:${port}/`], { stdio: 'inherit' });
  child.on('exit', async () => { await nginx.stop(); process.exit(0); });
});
