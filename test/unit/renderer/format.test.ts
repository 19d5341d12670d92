import { describe, expect, it } from 'vitest';
import { ago, bytes, formatValue, shortId } from '../../../renderer/src/lib/format.ts';
import { pt } from './helpers.ts';

describe('format', () => {
  it('formatValue: integers as is, fractions to 6 places, text as is', () => {
    expect(formatValue(undefined)).toBe('');
    expect(formatValue(pt('value', 42))).toBe('42');
    expect(formatValue(pt('value', 1 / 3))).toBe('0.333333');
    expect(formatValue(pt('value', -2.5))).toBe('-2.5');
    expect(formatValue(pt('value', 'on'))).toBe('on');
  });

  it('ago', () => {
    const now = 1_000_000_000;
    expect(ago(now, now)).toBe('0s ago');
    expect(ago(now + 5000, now)).toBe('0s ago'); // clock skew: never negative
    expect(ago(now - 59_000, now)).toBe('59s ago');
    expect(ago(now - 60_000, now)).toBe('1m ago');
    expect(ago(now - 3_600_000, now)).toBe('1h ago');
    expect(ago(now - 86_400_000 * 3, now)).toBe('3d ago');
  });

  it('bytes and shortId', () => {
    expect(bytes(0)).toBe('0 B');
    expect(bytes(1536)).toBe('1.5 KB');
    expect(bytes(5 * 1024 * 1024)).toBe('5.0 MB');
    expect(bytes(3 * 1024 ** 3)).toBe('3.00 GB');
    expect(shortId('abc')).toBe('abc');
    expect(shortId('0123456789abcdef')).toBe('01234567…');
  });
});
