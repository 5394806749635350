// Installs the locked dependencies of a package (default: this one; `bench/peer` for the benchmark's peer) when
// they are missing or older than its package-lock.json, so that `npm start`, `npm test` and `npm run bench` work
// on a fresh clone without a separate install step.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.';
const installed = join(dir, 'node_modules/.package-lock.json');
const lock = join(dir, 'package-lock.json');
const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  process.stderr.write(`Installing dependencies in ${dir} (npm ci)…\n`);
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit', cwd: dir });
}
