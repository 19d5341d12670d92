#!/usr/bin/env node
// Runs the whole suite and closes with one line, `N passed, N failed`,
// counted from the JSON reports (CI reads that line, not the runners' own
// summaries): vitest (unit, component, integration), then Playwright (the
// UI end to end in Chromium). Arguments go to vitest (e.g. a file filter)
// and skip Playwright; `--e2e` runs Playwright only.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'test-results');
mkdirSync(outDir, { recursive: true });
const args = process.argv.slice(2);
const e2eOnly = args[0] === '--e2e';
const runVitest = !e2eOnly;
const runE2e = e2eOnly || args.length === 0;

let passed = 0;
let failed = 0;
let skipped = 0;

if (runVitest) {
  const report = join(outDir, 'vitest.json');
  rmSync(report, { force: true });
  const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const r = spawnSync(process.execPath, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args], { cwd: root, stdio: 'inherit' });
  let f = 0;
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    passed += json.numPassedTests ?? 0;
    // A file that fails to load has no failed test, only a failed status.
    const brokenFiles = (json.testResults ?? []).filter((t) => t.status === 'failed' && !(t.assertionResults ?? []).some((a) => a.status === 'failed')).length;
    f = (json.numFailedTests ?? 0) + brokenFiles;
    skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  } else {
    // vitest died before reporting: count that as a failure, never a pass.
    f = 1;
  }
  if (r.status !== 0 && f === 0) f = 1;
  failed += f;
}

if (runE2e) {
  const report = join(outDir, 'playwright.json');
  rmSync(report, { force: true });
  const cli = join(root, 'node_modules', '@playwright', 'test', 'cli.js');
  const r = spawnSync(process.execPath, [cli, 'test'], { cwd: root, stdio: 'inherit' });
  let f = 0;
  if (existsSync(report)) {
    const { stats } = JSON.parse(readFileSync(report, 'utf8'));
    passed += (stats.expected ?? 0) + (stats.flaky ?? 0);
    f = stats.unexpected ?? 0;
    skipped += stats.skipped ?? 0;
    // A global setup that throws leaves no test run: that is a failure.
    if (stats.expected + stats.unexpected + stats.flaky === 0) f = Math.max(f, 1);
  } else {
    f = 1;
  }
  if (r.status !== 0 && f === 0) f = 1;
  failed += f;
}

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
