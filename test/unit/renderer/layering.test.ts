// DESIGN.md §6: the renderer reaches the main process only through the
// client API. ESLint checks renderer/**/*.ts; this also covers .svelte files.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const src = join(root, 'renderer', 'src');

interface Import {
  spec: string;
  typeOnly: boolean;
}

/** Import and re-export specifiers of a module's source (script blocks of a .svelte file). */
function importsOf(text: string, svelte: boolean): Import[] {
  const code = svelte ? [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n') : text;
  const out: Import[] = [];
  // import x from '…', import type {…} from '…', export {…} from '…', export * from '…'
  for (const m of code.matchAll(/(?:^|[\s;])(import|export)\s+(type\s+)?((?:[\w$*{}\s,]|\bas\b)*?)\s*from\s*(['"])([^'"]+)\4/g)) {
    out.push({ spec: m[5] as string, typeOnly: Boolean(m[2]) });
  }
  // import '…' (side effects) and import('…')
  for (const m of code.matchAll(/(?:^|[\s;])import\s*\(?\s*(['"])([^'"]+)\1/g)) out.push({ spec: m[2] as string, typeOnly: false });
  return out;
}

/** Why an import breaks the layering, or undefined. */
function violation(file: string, imp: Import): string | undefined {
  const { spec } = imp;
  if (!spec.startsWith('.')) {
    if (/^svelte(\/(store|reactivity|motion|transition|animate|easing|events))?$/.test(spec)) return undefined;
    if (spec === 'uplot' || spec === 'uplot/dist/uPlot.min.css') return undefined;
    return `package ${spec}`;
  }
  const target = resolve(dirname(file), spec);
  if (target.startsWith(src + sep)) return undefined;
  const rel = relative(root, target).split(sep).join('/');
  if (rel.startsWith('app/siot/')) return undefined;
  if (rel.startsWith('app/client/')) return imp.typeOnly ? undefined : `${rel} (app/client only with \`import type\`)`;
  return rel;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return /\.(ts|svelte)$/.test(e.name) ? [p] : [];
  });
}

describe('renderer layering', () => {
  it('the scanner finds imports and flags the ones that break the rule', () => {
    const f = join(src, 'components', 'X.svelte');
    const text = `<script lang="ts">
  import type { UiPoint } from '../../../app/client/index.ts';
  import { dispatch } from '../../../app/client/index.ts';
  import { readFileSync } from 'node:fs';
  import Store from '../../../app/store/index.ts';
  import * as siot from '../../../app/siot/index.ts';
  import 'uplot/dist/uPlot.min.css';
  import {
    a,
    b as c,
  } from '../lib/format.ts';
  const m = await import('electron');
</script>
<p>import this from 'nowhere' is prose in markup and ignored</p>`;
    const found = importsOf(text, true);
    expect(found.map((i) => i.spec)).toEqual([
      '../../../app/client/index.ts',
      '../../../app/client/index.ts',
      'node:fs',
      '../../../app/store/index.ts',
      '../../../app/siot/index.ts',
      '../lib/format.ts',
      'uplot/dist/uPlot.min.css',
      'electron',
    ]);
    expect(found.map((i) => violation(f, i))).toEqual([
      undefined,
      'app/client/index.ts (app/client only with `import type`)',
      'package node:fs',
      'app/store/index.ts',
      undefined,
      undefined,
      undefined,
      'package electron',
    ]);
    expect(importsOf(`export { x } from '../../app/sync/index.ts';\nexport type { Y } from '../../app/client/index.ts';`, false)).toEqual([
      { spec: '../../app/sync/index.ts', typeOnly: false },
      { spec: '../../app/client/index.ts', typeOnly: true },
    ]);
  });

  it('renderer/src imports only itself, svelte, uplot, app/siot and (types of) app/client', () => {
    const all = files(src);
    expect(all.some((f) => f.endsWith('.svelte'))).toBe(true);
    expect(all.some((f) => f.endsWith('.ts'))).toBe(true);
    const bad: string[] = [];
    let count = 0;
    for (const f of all) {
      for (const imp of importsOf(readFileSync(f, 'utf8'), f.endsWith('.svelte'))) {
        count++;
        const v = violation(f, imp);
        if (v) bad.push(`${relative(root, f)}: ${imp.spec} → ${v}`);
      }
    }
    expect(count).toBeGreaterThan(20);
    expect(bad).toEqual([]);
  });
});
