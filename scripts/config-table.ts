// Prints the README's configuration table from the services' schemas (the single source of truth).
import { schemasByService } from '../services/proxy/src/index.ts';

const seen = new Set<string>();
const rows: string[] = ['| Variable | Default | Read by | Meaning |', '|---|---|---|---|'];
for (const [owner, schema] of Object.entries(schemasByService)) {
  for (const f of Object.values(schema)) {
    if (seen.has(f.env)) continue;
    seen.add(f.env);
    const def = f.default === undefined ? '*(unset)*' : `\`${f.default}\``;
    rows.push(`| \`${f.env}\` | ${def} | ${owner === 'common' ? 'all' : owner} | ${f.doc.replace(/\|/g, '\\|')} |`);
  }
}
console.log(rows.join('\n'));
