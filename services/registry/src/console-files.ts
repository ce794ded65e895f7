import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The console's files, next to the code that runs: `services/registry/console` from the sources,
 * `services/proxy/console` beside the bundle (scripts/build.mjs copies it there).
 */
export const CONSOLE_DIR = fileURLToPath(new URL('../console', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The page only talks to this origin's API; nothing inline, nothing from elsewhere. */
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // A new proxy version ships new files under the same names: revalidate every load.
  'Cache-Control': 'no-cache',
} as const;

/**
 * Reads the console's files once (a few KB; a missing directory stops start-up rather than serving
 * 404s) and serves them at `/console/`. Only the files found at start are served: no paths from the
 * request reach the file system.
 */
export function registerConsole(app: FastifyInstance, dir: string = CONSOLE_DIR): void {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type !== undefined) files.set(name, { type, body: readFileSync(join(dir, name)) });
  }
  if (!files.has('index.html')) throw new Error(`console files missing: no index.html in ${dir}`);

  app.get('/console', async (_req, reply) => reply.redirect('/console/', 301));
  const serve = async (name: string, reply: FastifyReply) => {
    const file = files.get(name);
    if (file === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('404 page not found\n');
    return reply.headers(SECURITY_HEADERS).type(file.type).send(file.body);
  };
  app.get('/console/', async (_req, reply) => serve('index.html', reply));
  app.get<{ Params: { file: string } }>('/console/:file', async (req, reply) => serve(req.params.file, reply));
}
