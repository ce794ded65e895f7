// Prints the README's configuration table from the services' schemas (the single source of truth).
import { fileURLToPath } from 'node:url';
import { schemasByService } from '../services/proxy/src/index.ts';

// Defaults computed from the install location print relative to the repository.
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const seen = new Set<string>();
const rows: string[] = ['| Variable | Default | Read by | Meaning |', '|---|---|---|---|'];
for (const [owner, schema] of Object.entries(schemasByService)) {
  for (const f of Object.values(schema)) {
    if (seen.has(f.env)) continue;
    seen.add(f.env);
    const def = f.default === undefined ? '*(unset)*' : `\`${f.default.replace(ROOT, '<repo>/')}\``;
    rows.push(`| \`${f.env}\` | ${def} | ${owner === 'common' ? 'all' : owner} | ${f.doc.replace(/\|/g, '\\|')} |`);
  }
}
console.log(rows.join('\n'));
