import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Loads `.env` from `dir` with the Go proxy's grammar: `#` lines skipped, first `=` splits key and
 * value (both trimmed), no quotes/escapes/export. A variable the environment already holds with a
 * non-empty value wins over the file. Returns the number of variables set, or -1 if no file.
 */
export function loadDotEnv(dir: string, env: NodeJS.ProcessEnv = process.env): number {
  let text: string;
  try {
    text = readFileSync(resolve(dir, '.env'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return -1;
    throw err;
  }
  let set = 0;
  for (const raw of text.replace(/\r\n/g, '\n').split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    const eq = raw.indexOf('=');
    if (eq <= 0) continue;
    const key = raw.slice(0, eq).trim();
    const value = raw.slice(eq + 1).trim();
    if (!key) continue;
    if (env[key] !== undefined && env[key] !== '') continue;
    env[key] = value;
    set++;
  }
  return set;
}
