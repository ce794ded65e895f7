// Runs every benchmark script in bench/ (or those named on the command line) one after another,
// each in its own process so one cannot skew another's CPU figures. Each prints its own table.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
let failed = 0;
for (const s of scripts) {
  console.log(`\n=== ${s} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${s}`], { stdio: 'inherit', cwd: dir });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
