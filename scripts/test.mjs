// The test command: type-check, lint, then every test file (unit tests beside the code, e2e under test/)
// with node's test runner through tsx. Arguments narrow the files: `npm test -- src/storage`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const filters = args.filter((a) => !a.startsWith('--'));

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith('.test.ts')) out.push(path.relative(root, full));
  }
  return out;
}

function run(cmd, cmdArgs) {
  console.log(`$ ${cmd} ${cmdArgs.join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!quick) {
  run('npx', ['tsc', '-p', 'tsconfig.json']);
  run('npx', ['eslint', '--max-warnings=0', '.']);
}
const files = [...walk(path.join(root, 'src'), []), ...walk(path.join(root, 'test'), [])]
  .filter((f) => filters.length === 0 || filters.some((flt) => f.startsWith(flt) || f.includes(flt)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files]);
