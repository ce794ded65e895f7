import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { allVariables } from '@srs-proxy/proxy';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

test('README documents every environment variable a service reads', () => {
  const missing = allVariables().filter((v) => !README.includes(`\`${v}\``));
  assert.deepEqual(missing, [], `run \`pnpm config-table\` and paste the table: missing ${missing.join(', ')}`);
});

test('README Quick start holds exactly two commands', () => {
  const section = /## Quick start\n([\s\S]*?)\n## /.exec(README)?.[1];
  assert.ok(section, 'no Quick start section');
  const blocks = [...section.matchAll(/```(?:bash|sh)?\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
  const commands = blocks.flatMap((b) => b.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#')));
  assert.equal(commands.length, 2, `expected 2 commands, got: ${commands.join(' | ')}`);
  assert.match(commands[0]!, /pnpm start/);
  assert.match(commands[1]!, /pnpm test/);
});
