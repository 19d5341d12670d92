#!/usr/bin/env node
// Builds what the desktop app runs, into dist/ (what electron-builder packs):
//   1. the app's TypeScript (tsc -p tsconfig.build.json) → dist/app/**;
//   2. the preload, on its own, as CommonJS → dist/app/main/preload.cjs:
//      Electron runs a sandboxed preload as a plain script (no ES modules, no
//      relative require), so tsc's ES-module output of it cannot be used;
//   3. build/nats-server.json → dist/build/: compiled app/nats/binary.js reads
//      the pin relative to itself (dist/app/nats/../../build), not the project;
//   4. the renderer → dist/renderer/ (the UI's `build:renderer` script or its
//      vite config), when the UI provides one.
// Plain JavaScript so it runs before anything is compiled.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const preloadSource = join(root, 'app', 'main', 'preload.ts');
export const preloadOutput = join(root, 'dist', 'app', 'main', 'preload.cjs');
export const rendererIndex = join(root, 'dist', 'renderer', 'index.html');
const require = createRequire(import.meta.url);
const log = (msg) => process.stderr.write(`build-electron: ${msg}\n`);

/** TypeScript source of the preload → the CommonJS script Electron runs. */
export function compilePreload(source, fileName = 'preload.ts') {
  const ts = require('typescript');
  const out = ts.transpileModule(source, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false, sourceMap: false, removeComments: false },
  });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) throw new Error(`${fileName}: ${errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`);
  // A sandboxed preload may require only 'electron' (and a few built-ins).
  const requires = [...out.outputText.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
  const stray = requires.filter((r) => r !== 'electron');
  if (stray.length) throw new Error(`${fileName} requires ${stray.join(', ')} at run time; a sandboxed preload can only require 'electron' (import types only)`);
  return out.outputText;
}

/** Where the UI's build is configured, if it is yet. */
function rendererBuild() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  if (pkg.scripts?.['build:renderer']) return { cmd: 'npm', args: ['run', '--silent', 'build:renderer'] };
  for (const dir of ['renderer', '.']) {
    for (const name of ['vite.config.ts', 'vite.config.mts', 'vite.config.js', 'vite.config.mjs']) {
      const config = join(root, dir, name);
      if (existsSync(config)) return { cmd: process.execPath, args: [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', config] };
    }
  }
  return null;
}

function run(what, cmd, args) {
  log(what);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' && cmd === 'npm' });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}); fix the errors above and run \`npm run build:electron\` again`);
}

export function buildElectron({ renderer = true } = {}) {
  run('compiling app/ (tsc -p tsconfig.build.json)', process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
  mkdirSync(dirname(preloadOutput), { recursive: true });
  writeFileSync(preloadOutput, compilePreload(readFileSync(preloadSource, 'utf8')));
  log(`wrote ${preloadOutput}`);
  mkdirSync(join(root, 'dist', 'build'), { recursive: true });
  copyFileSync(join(root, 'build', 'nats-server.json'), join(root, 'dist', 'build', 'nats-server.json'));
  if (!renderer) return;
  const ui = rendererBuild();
  if (ui) run('building the renderer', ui.cmd, ui.args);
  else if (!existsSync(rendererIndex)) log(`no renderer build configured yet (no build:renderer script, no vite config); ${rendererIndex} is missing, so the window will say so`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    buildElectron({ renderer: !process.argv.includes('--no-renderer') });
  } catch (e) {
    log(`FAILED: ${e.message}`);
    process.exit(1);
  }
}
