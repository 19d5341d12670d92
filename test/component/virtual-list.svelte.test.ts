// @vitest-environment jsdom
// VirtualList in jsdom: no layout, so the viewport's clientHeight is stubbed
// and ResizeObserver (which `bind:clientHeight` uses) is a no-op.
import { createRawSnippet, flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import VirtualList from '../../renderer/src/components/VirtualList.svelte';

const VIEWPORT_HEIGHT = 400;
const ROW = 28;

beforeAll(() => {
  (globalThis as Record<string, unknown>).ResizeObserver ??= class {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
  };
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
    configurable: true,
    get(this: HTMLElement) {
      return this.dataset.testid === 'virtual-list' ? VIEWPORT_HEIGHT : 0;
    },
  });
});

interface Item {
  id: string;
  n: number;
}

const items = (n: number): Item[] => Array.from({ length: n }, (_, i) => ({ id: `k${i}`, n: i }));
const row = createRawSnippet((item: () => Item, index: () => number) => ({
  render: () => `<span class="item" data-n="${item().n}" data-index="${index()}">item ${item().n}</span>`,
}));

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
  document.body.innerHTML = '';
});

function render(list: Item[], extra: Record<string, unknown> = {}) {
  const target = document.createElement('div');
  document.body.appendChild(target);
  // A $state proxy (this file is compiled by Svelte: `.svelte.test.ts`), so
  // tests can change props after mount.
  const props = $state({ items: list, key: (i: Item) => i.id, row, ...extra });
  const c = mount(VirtualList, { target, props });
  cleanup = () => unmount(c);
  flushSync();
  const viewport = target.querySelector<HTMLDivElement>('[data-testid="virtual-list"]') as HTMLDivElement;
  const shown = () => [...target.querySelectorAll<HTMLElement>('.item')].map((e) => Number(e.dataset.n));
  return { target, viewport, shown, props };
}

function scrollTo(viewport: HTMLDivElement, top: number): void {
  viewport.scrollTop = top;
  viewport.dispatchEvent(new Event('scroll'));
  flushSync();
}

describe('VirtualList', () => {
  it('renders only a window of 10,000 rows, with a spacer the full height', () => {
    const { viewport, shown, target } = render(items(10_000));
    const rows = shown();
    // 400 px / 28 px = 15 rows in view, plus 10 overscan below.
    expect(rows).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(target.querySelectorAll('.row')).toHaveLength(25);
    expect(viewport.dataset.total).toBe('10000');
    const spacer = viewport.firstElementChild as HTMLElement;
    expect(spacer.style.height).toBe(`${10_000 * ROW}px`);
    expect(viewport.getAttribute('role')).toBe('tree');
  });

  it('scrolling changes the rendered rows, positioned absolutely', () => {
    const { viewport, shown, target } = render(items(10_000));
    scrollTo(viewport, 5_000 * ROW);
    const rows = shown();
    expect(rows[0]).toBe(4_990);
    expect(rows.at(-1)).toBe(5_024);
    expect(rows).toHaveLength(35);
    const first = target.querySelector<HTMLElement>('.row') as HTMLElement;
    expect(first.style.top).toBe(`${4_990 * ROW}px`);
    expect(first.querySelector<HTMLElement>('.item')?.dataset.index).toBe('4990');
    // To the end: no row past the last item.
    scrollTo(viewport, 10_000 * ROW - VIEWPORT_HEIGHT);
    expect(shown().at(-1)).toBe(9_999);
    expect(shown().length).toBeLessThan(40);
    // Back to the top.
    scrollTo(viewport, 0);
    expect(shown()[0]).toBe(0);
  });

  it('follows a change of items (a filter), and a short list renders whole', () => {
    const { shown, props } = render(items(10_000));
    props.items = items(3);
    flushSync();
    expect(shown()).toEqual([0, 1, 2]);
    props.items = [];
    flushSync();
    expect(shown()).toEqual([]);
  });

  it('rowHeight and overscan are honoured', () => {
    const { shown } = render(items(1_000), { rowHeight: 40, overscan: 0 });
    expect(shown()).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });
});
