import { createReadStream, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { ConfigError } from '@srs-proxy/runtime';

/** MIME types of what a player page directory holds; anything else is application/octet-stream. */
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.swf': 'application/x-shockwave-flash',
  '.mp4': 'video/mp4',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.flv': 'video/x-flv',
};

const NOT_FOUND = '404 page not found\n';

export type StaticOutcome = 'file' | 'not-modified' | 'partial' | 'redirect' | 'not-found' | 'refused' | 'bad-method' | 'bad-range';

/** One `bytes=a-b` range (the only form we serve); undefined when absent or unsatisfiable. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'invalid' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'invalid';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}

/**
 * The player pages directory (`PROXY_STATIC_FILES`): files and `index.html` only, no directory
 * listing (spec S11), nothing outside the root, symlinks included (the resolved path must stay
 * under the root's real path).
 */
export class StaticFiles {
  private constructor(readonly root: string) {}

  /** Validates the directory at start-up: a missing or non-directory root is a config error. */
  static async open(dir: string): Promise<StaticFiles> {
    let real: string;
    let st: Stats;
    try {
      real = await realpath(resolve(dir));
      st = await stat(real);
    } catch {
      throw new ConfigError('PROXY_STATIC_FILES', `static files directory "${dir}" does not exist`);
    }
    if (!st.isDirectory()) throw new ConfigError('PROXY_STATIC_FILES', `"${dir}" is not a directory`);
    return new StaticFiles(real);
  }

  /** Resolves a decoded, cleaned request path to a real file path under the root, or undefined. */
  async resolve(path: string): Promise<string | undefined> {
    const segments = path.split('/');
    if (segments.some((s) => s === '..' || s.includes('\\') || s.includes('\0'))) return undefined;
    const candidate = join(this.root, ...segments);
    if (candidate !== this.root && !candidate.startsWith(this.root + sep)) return undefined;
    let real: string;
    try {
      real = await realpath(candidate);
    } catch {
      return undefined;
    }
    return real === this.root || real.startsWith(this.root + sep) ? real : undefined;
  }

  async serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<StaticOutcome> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return 'bad-method';
    }
    const segments = path.split('/');
    if (segments.includes('..')) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('forbidden\n');
      return 'refused';
    }
    let file = await this.resolve(path);
    let st = file === undefined ? undefined : await stat(file).catch(() => undefined);
    if (file !== undefined && st?.isDirectory()) {
      if (!path.endsWith('/')) {
        const q = req.url?.indexOf('?') ?? -1;
        const location = `${path.split('/').map(encodeURIComponent).join('/')}/${q >= 0 ? req.url!.slice(q) : ''}`;
        res.writeHead(301, { location }).end();
        return 'redirect';
      }
      file = await this.resolve(`${path}index.html`);
      st = file === undefined ? undefined : await stat(file).catch(() => undefined);
    }
    if (file === undefined || st === undefined || !st.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(NOT_FOUND);
      return 'not-found';
    }

    const lastModified = new Date(Math.floor(st.mtimeMs / 1000) * 1000);
    const modified = lastModified.toUTCString();
    const headers: Record<string, string | number> = {
      'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'last-modified': modified,
      'accept-ranges': 'bytes',
    };
    const since = req.headers['if-modified-since'];
    if (since !== undefined && !Number.isNaN(Date.parse(since)) && lastModified.getTime() <= Date.parse(since)) {
      res.writeHead(304, { 'last-modified': modified }).end();
      return 'not-modified';
    }
    const range = parseRange(req.headers.range, st.size);
    if (range === 'invalid') {
      res.writeHead(416, { 'content-range': `bytes */${st.size}` }).end();
      return 'bad-range';
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? st.size - 1;
    headers['content-length'] = st.size === 0 ? 0 : end - start + 1;
    if (range) headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || st.size === 0) {
      res.end();
    } else {
      await pipeline(createReadStream(file, { start, end }), res).catch(() => res.destroy());
    }
    return range ? 'partial' : 'file';
  }
}
