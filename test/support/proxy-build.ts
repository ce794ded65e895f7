import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** What production runs and what the suite's end-to-end tests spawn. */
export const PROXY_BUNDLE = join(ROOT, 'services/proxy/dist/srs-proxy.js');
/** A build takes about a second; this bounds a wedged one on a loaded machine. */
const BUILD_TIMEOUT_MS = 120_000;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function newestFile(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) newest = Math.max(newest, entry.isDirectory() ? newestFile(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs);
  return newest;
}

function sourcesNewerThanBundle(): boolean {
  if (!existsSync(PROXY_BUNDLE)) return true;
  const built = statSync(PROXY_BUNDLE).mtimeMs;
  for (const group of ['libs', 'services']) {
    for (const pkg of readdirSync(join(ROOT, group))) {
      const src = join(ROOT, group, pkg, 'src');
      if (existsSync(src) && newestSource(src) > built) return true;
      // Files served beside the code (the registry's console) are copied into the build too.
      const served = join(ROOT, group, pkg, 'console');
      if (existsSync(served) && newestFile(served) > built) return true;
    }
  }
  return false;
}

let checked = false;

/**
 * The bundle the tests spawn, rebuilt first when a source file is newer (a developer running one
 * test file after an edit). `pnpm test` builds before the run, so in CI this only checks. The build
 * replaces files by rename, so a concurrent test process never loads a half-written bundle.
 */
export function proxyBundle(): string {
  if (checked) return PROXY_BUNDLE;
  if (sourcesNewerThanBundle()) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS });
    if (r.status !== 0) throw new Error(`pnpm build failed (status ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  checked = true;
  return PROXY_BUNDLE;
}
