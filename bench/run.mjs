#!/usr/bin/env node
// ./collab bench entry point (run from the repository root by the launcher, or as `node bench/run.mjs`).
// Installs bench/'s own dependencies (npm ci) when they are missing or older than the lockfile, then runs the
// benchmark (lib/main.mjs). Only Node built-ins are imported before that.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const lock = path.join(dir, 'package-lock.json');
const installed = path.join(dir, 'node_modules', '.package-lock.json');
// a symlinked node_modules is an install shared by several worktrees (as the launcher's npm_ci): npm ci through the
// link would empty the shared copy, so it is left alone
const linked = existsSync(path.join(dir, 'node_modules')) && lstatSync(path.join(dir, 'node_modules')).isSymbolicLink();
if (!linked && (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs)) {
  console.error('bench: npm ci in bench/');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
}
await import('./lib/main.mjs');
