#!/usr/bin/env node
// `srs-proxy [role]`: runs the compiled bundle in this process (no child, so signals reach the proxy).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/srs-proxy.js', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write('srs-proxy: not built yet; run `pnpm build` in the repository first\n');
  process.exit(1);
}
await import(bundle.href);
