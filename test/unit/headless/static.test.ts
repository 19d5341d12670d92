import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveStatic } from '../../../app/headless/static.ts';

describe('resolveStatic', () => {
  let base: string;
  let root: string;
  beforeAll(() => {
    // base/secret.txt sits beside the served folder base/renderer.
    base = mkdtempSync(join(tmpdir(), 'siot-static-'));
    root = join(base, 'renderer');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html>');
    writeFileSync(join(root, 'assets', 'app-1234.js'), '');
    writeFileSync(join(root, 'assets', 'a b.css'), '');
    writeFileSync(join(base, 'secret.txt'), 'secret');
    // A sibling whose name starts with the root's name.
    mkdirSync(join(base, 'renderer-private'));
    writeFileSync(join(base, 'renderer-private', 'key'), 'k');
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('resolves files inside the root', () => {
    expect(resolveStatic(root, '/index.html')).toBe(join(root, 'index.html'));
    expect(resolveStatic(root, '/assets/app-1234.js')).toBe(join(root, 'assets', 'app-1234.js'));
    expect(resolveStatic(root, '/assets/a%20b.css')).toBe(join(root, 'assets', 'a b.css'));
    // Dot segments that stay inside are fine.
    expect(resolveStatic(root, '/assets/../index.html')).toBe(join(root, 'index.html'));
    expect(resolveStatic(root, '//index.html')).toBe(join(root, 'index.html'));
  });

  it('directories, the root itself and missing files resolve to nothing', () => {
    expect(resolveStatic(root, '/')).toBeUndefined();
    expect(resolveStatic(root, '')).toBeUndefined();
    expect(resolveStatic(root, '/assets')).toBeUndefined();
    expect(resolveStatic(root, '/assets/')).toBeUndefined();
    expect(resolveStatic(root, '/missing.js')).toBeUndefined();
  });

  it.each([
    '/../secret.txt',
    '/../../secret.txt',
    '../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%2fsecret.txt',
    '/..%5csecret.txt',
    '/..\\secret.txt',
    '\\..\\secret.txt',
    '/assets/..\\..\\secret.txt',
    '/../renderer-private/key',
    `/${'../'.repeat(20)}etc/passwd`,
    '/%252e%252e/secret.txt',
  ])('refuses a path that leaves the root: %s', (p) => {
    expect(resolveStatic(root, p)).toBeUndefined();
  });

  it('refuses NUL bytes, raw or encoded, and malformed escapes', () => {
    expect(resolveStatic(root, '/index.html%00.js')).toBeUndefined();
    expect(resolveStatic(root, '/index.html\0')).toBeUndefined();
    expect(resolveStatic(root, '/%E0%A4%A')).toBeUndefined();
    expect(resolveStatic(root, '/%')).toBeUndefined();
  });

  it('absolute paths name files under the root, not on the disk', () => {
    expect(resolveStatic(root, join(base, 'secret.txt'))).toBeUndefined();
    expect(resolveStatic(root, '/etc/passwd')).toBeUndefined();
  });
});
