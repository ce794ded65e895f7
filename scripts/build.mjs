#!/usr/bin/env node
// `pnpm build`: bundles the proxy entry and every workspace package it imports into one ESM file,
// services/proxy/dist/srs-proxy.js, that plain `node` runs. Third-party packages stay external and
// are installed from services/proxy/package.json `dependencies` (what `pnpm deploy --prod` ships);
// the build fails when the bundle imports a package that list does not declare. Type checking is
// `pnpm typecheck` (tsc); esbuild only strips types.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const proxyDir = join(root, 'services/proxy');
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const proxyPkg = readJson(join(proxyDir, 'package.json'));

// Every third-party dependency any workspace package declares is external; workspace code is inlined.
const external = new Set();
for (const group of ['libs', 'services']) {
  for (const name of readdirSync(join(root, group))) {
    let pkg;
    try {
      pkg = readJson(join(root, group, name, 'package.json'));
    } catch {
      continue;
    }
    for (const dep of Object.keys(pkg.dependencies ?? {})) if (!dep.startsWith('@srs-proxy/')) external.add(dep);
  }
}

// Written beside the live files, then renamed over them one by one: a proxy that tests (or a
// developer) start while a rebuild runs loads either the old file or the new one, never half.
const distDir = join(proxyDir, 'dist');
const outdir = join(distDir, `.tmp-${process.pid}`);
mkdirSync(outdir, { recursive: true });
const result = await build({
  entryPoints: { 'srs-proxy': join(proxyDir, 'src/main.ts') },
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  // The oldest Node line `engines` allows; esbuild lowers nothing newer than it needs.
  target: 'node22.12',
  external: [...external],
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  banner: { js: '#!/usr/bin/env node' },
});

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const packageOf = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
const undeclared = new Set();
for (const out of Object.values(result.metafile.outputs)) {
  for (const imp of out.imports) {
    if (!imp.external || builtins.has(imp.path)) continue;
    if (!(packageOf(imp.path) in (proxyPkg.dependencies ?? {}))) undeclared.add(packageOf(imp.path));
  }
}
if (undeclared.size > 0) {
  rmSync(outdir, { recursive: true, force: true });
  console.error(`build: the bundle imports packages services/proxy/package.json does not declare: ${[...undeclared].join(', ')}`);
  process.exit(1);
}
for (const name of readdirSync(outdir)) renameSync(join(outdir, name), join(distDir, name));
rmSync(outdir, { recursive: true, force: true });

// The http-edge serves its bundled static files from `../static` next to the code that runs.
cpSync(join(root, 'services/http-edge/static'), join(proxyDir, 'static'), { recursive: true });
// The registry serves its console from `../console` the same way.
cpSync(join(root, 'services/registry/console'), join(proxyDir, 'console'), { recursive: true });
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`build: services/proxy/dist/srs-proxy.js (${(bytes / 1024).toFixed(0)} KiB with its map)`);
