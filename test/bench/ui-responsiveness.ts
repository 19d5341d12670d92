// UI responsiveness, measured in Debian's Chromium against the headless
// runner: a 10,000-node tree (virtualized list: load, scroll, search) and
// 1,000 point updates per second (batched per animation frame). Writes its
// section of RESULTS.md; run alone with `npx tsx test/bench/ui-responsiveness.ts`.
import { chromium } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHeadless } from '../../app/headless/index.ts';
import { startService } from '../../app/service/index.ts';
import { floatPoint, stringPoint } from '../../app/siot/index.ts';
import { removeDir, tempDir } from '../helpers/server.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RESULTS = join(root, 'test', 'bench', 'RESULTS.md');
const BEGIN = '<!-- ui-bench:begin -->';
const END = '<!-- ui-bench:end -->';

export interface UiBench {
  nodes: number;
  snapshotMs: number;
  firstRowsMs: number;
  domRows: number;
  scroll: FrameStats;
  searchMs: number[];
  updates: { offered: number; seconds: number; applied: number; frames: number; maxBatch: number; perFrame: number; frame: FrameStats; longTasks: number; longTaskMs: number; clickMs: number[] };
  chromium: string;
}

interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  max: number;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? 0;
const frameStats = (deltas: number[]): FrameStats => ({ frames: deltas.length, p50: pct(deltas, 50), p95: pct(deltas, 95), max: Math.max(0, ...deltas) });

export async function benchUi(opts: { nodes?: number; rate?: number; seconds?: number } = {}): Promise<UiBench> {
  const nodes = opts.nodes ?? 10_000;
  const rate = opts.rate ?? 1_000;
  const seconds = opts.seconds ?? 10;
  if (!existsSync(join(root, 'dist', 'renderer', 'index.html')) || process.env.SIOT_BENCH_BUILD !== '0') {
    const r = spawnSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('renderer build failed');
  }
  const dir = tempDir('bench-ui');
  const service = await startService({ dataDir: dir, mode: 'headless', appVersion: 'bench', demo: false });
  const web = await startHeadless({ service, rendererDir: join(root, 'dist', 'renderer') });
  const browser = await chromium.launch({ executablePath: process.env.SIOT_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const { store } = service.instance;
    const rootId = service.instance.id;
    const ids: string[] = [];
    for (let i = 0; i < nodes; i += 200) {
      const batch = [];
      for (let j = i; j < Math.min(nodes, i + 200); j++) batch.push(store.createNode(rootId, 'modbusIO', [stringPoint('description', `node ${j + 1}`), floatPoint('value', j)]));
      ids.push(...(await Promise.all(batch)));
    }
    const t0 = performance.now();
    await service.api.tree();
    const snapshotMs = performance.now() - t0;

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const start = performance.now();
    await page.goto(web.url);
    await page.waitForFunction((n) => (document.querySelector('[data-testid=virtual-list]')?.getAttribute('data-total') ?? '0') >= String(n) && Number(document.querySelector('[data-testid=virtual-list]')?.getAttribute('data-total')) > n, nodes);
    const firstRowsMs = performance.now() - start;
    const domRows = await page.locator('[data-testid=tree-row]').count();

    // Scroll through the whole list, 10 rows per frame.
    const scrollDeltas = await page.evaluate(async () => {
      const vp = document.querySelector('[data-testid=virtual-list]') as HTMLElement;
      const deltas: number[] = [];
      let last = performance.now();
      for (let i = 0; i < 300; i++) {
        vp.scrollTop += 280 * 3;
        vp.dispatchEvent(new Event('scroll'));
        await new Promise((r) => requestAnimationFrame(() => r(null)));
        const now = performance.now();
        deltas.push(now - last);
        last = now;
      }
      return deltas;
    });

    const searchMs: number[] = [];
    for (const q of ['node 9876', 'node 12', '']) {
      const before = await page.getByTestId('tree-count').textContent();
      const t = performance.now();
      await page.getByTestId('tree-search').fill(q);
      await page.waitForFunction((b) => document.querySelector('[data-testid=tree-count]')?.textContent !== b, before);
      searchMs.push(performance.now() - t);
    }

    // 1,000 updates/s from the store, spread over 1,000 nodes, while the page
    // records its frame intervals and long tasks.
    // A string, not a function: tsx would wrap named functions in helpers the page lacks.
    await page.evaluate(`(() => {
      const b = (window.__bench = { deltas: [], long: [], run: true });
      new PerformanceObserver((l) => l.getEntries().forEach((e) => b.long.push(e.duration))).observe({ type: 'longtask', buffered: false });
      let last = performance.now();
      function tick() {
        const now = performance.now();
        b.deltas.push(now - last);
        last = now;
        if (b.run) requestAnimationFrame(tick);
      }
      requestAnimationFrame(tick);
    })()`);
    const before = await page.evaluate(() => {
      const s = (window as unknown as { __siot: { frameStats: { frames: number; items: number; maxBatch: number }; applied: number } }).__siot;
      return { ...s.frameStats, applied: s.applied };
    });
    let offered = 0;
    const tickMs = 50;
    const perTick = Math.round((rate * tickMs) / 1000);
    const until = Date.now() + seconds * 1000;
    const clickMs: number[] = [];
    const writer = (async () => {
      let k = 0;
      while (Date.now() < until) {
        const t = Date.now();
        const w = [];
        for (let i = 0; i < perTick; i++) w.push(store.writeNodePoints(ids[k++ % Math.min(1000, ids.length)] as string, [floatPoint('value', Math.random() * 100)]));
        await Promise.all(w);
        offered += perTick;
        await new Promise((r) => setTimeout(r, Math.max(0, tickMs - (Date.now() - t))));
      }
    })();
    // Meanwhile a technician clicks rows: time to the node's detail pane.
    await page.waitForTimeout(1000);
    for (let i = 0; i < 5; i++) {
      const row = page.getByTestId('tree-row').nth(3 + i);
      const id = await row.getAttribute('data-node-id');
      const t = performance.now();
      await row.click();
      await page.waitForSelector(`[data-testid=node-detail][data-node-id="${id}"]`);
      clickMs.push(performance.now() - t);
      await page.waitForTimeout(500);
    }
    await writer;
    await page.waitForTimeout(500);
    const after = await page.evaluate(() => {
      const w = window as unknown as { __bench: { deltas: number[]; long: number[]; run: boolean }; __siot: { frameStats: { frames: number; items: number; maxBatch: number }; applied: number } };
      w.__bench.run = false;
      return { ...w.__siot.frameStats, applied: w.__siot.applied, deltas: w.__bench.deltas, long: w.__bench.long };
    });
    const frames = after.frames - before.frames;
    const applied = after.applied - before.applied;
    return {
      nodes,
      snapshotMs,
      firstRowsMs,
      domRows,
      scroll: frameStats(scrollDeltas),
      searchMs,
      updates: {
        offered,
        seconds,
        applied,
        frames,
        maxBatch: after.maxBatch,
        perFrame: frames ? applied / frames : 0,
        frame: frameStats(after.deltas.slice(5)),
        longTasks: after.long.length,
        longTaskMs: after.long.reduce((a, b) => a + b, 0),
        clickMs,
      },
      chromium: browser.version(),
    };
  } finally {
    await browser.close();
    await web.close();
    await service.stop();
    removeDir(dir);
  }
}

const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export function uiSection(r: UiBench): string {
  const u = r.updates;
  return `${BEGIN}
## UI responsiveness in Chromium (goals: a 10,000-node tree stays usable; 1,000 updates/s batched per animation frame)

Headless runner in this process, real nats-server, Debian's Chromium ${r.chromium} (headless, software rendering) on the same 2 cores;
measured by test/bench/ui-responsiveness.ts. Frame intervals are \`requestAnimationFrame\` deltas in the page (16.7 ms = 60 fps).

| what | result |
| --- | --- |
| tree snapshot of ${f(r.nodes + 1)} nodes in the main process (\`tree()\`) | ${f(r.snapshotMs)} ms |
| page open → all ${f(r.nodes + 1)} rows in the list (HTTP, JSON, model, first render) | ${f(r.firstRowsMs)} ms |
| rows in the DOM with ${f(r.nodes + 1)} in the list (virtualized) | ${r.domRows} |
| scrolling 30 rows per frame, 300 frames: frame interval p50 / p95 / max | ${f(r.scroll.p50, 1)} / ${f(r.scroll.p95, 1)} / ${f(r.scroll.max, 1)} ms |
| search typed → list updated ("node 9876", "node 12", cleared) | ${r.searchMs.map((x) => f(x)).join(' / ')} ms |
| point updates offered for ${u.seconds} s (store writes on 1,000 nodes) | ${f(u.offered)} (${f(u.offered / u.seconds)}/s) |
| updates applied in the page / frames that applied them | ${f(u.applied)} / ${f(u.frames)} = **${f(u.perFrame, 1)} per frame** (at most ${f(u.maxBatch)} event batches in one frame) |
| frame interval during updates p50 / p95 / max | ${f(u.frame.p50, 1)} / ${f(u.frame.p95, 1)} / ${f(u.frame.max, 1)} ms over ${f(u.frame.frames)} frames |
| long tasks (> 50 ms) during updates | ${u.longTasks} (${f(u.longTaskMs)} ms in all) |
| click a row → its detail pane, during updates | ${u.clickMs.map((x) => f(x)).join(' / ')} ms (includes Playwright's round trips) |

Updates reach the page already coalesced (the main process batches every 50 ms, keeping the newest
value per node/point), then are applied once per animation frame; "applied" counts changes after
that coalescing, so it can be below what was offered.
${END}`;
}

export function writeUiSection(r: UiBench): void {
  const md = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n';
  const section = uiSection(r);
  const i = md.indexOf(BEGIN);
  const j = md.indexOf(END);
  const next = i >= 0 && j > i ? md.slice(0, i) + section + md.slice(j + END.length) : `${md.trimEnd()}\n\n${section}\n`;
  writeFileSync(RESULTS, next);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await benchUi();
  writeUiSection(r);
  process.stdout.write(uiSection(r) + '\n');
}
