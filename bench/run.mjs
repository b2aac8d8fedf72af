#!/usr/bin/env node
// ./collab bench entry point (run from the repository root by the launcher, or as `node bench/run.mjs`).
// Installs bench/'s own dependencies (npm ci) when they are missing or older than the lockfile, then runs the
// benchmark (lib/main.mjs). Only Node built-ins are imported before that.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const lock = path.join(dir, 'package-lock.json');
const installed = path.join(dir, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs) {
  console.error('bench: npm ci in bench/');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
}
await import('./lib/main.mjs');
