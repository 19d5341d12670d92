import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientError } from '../../../app/client/index.ts';
import { ConnectionStore, checkConnect, checkLink } from '../../../app/service/connections.ts';

function refused(fn: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ClientError);
  expect((err as Error).message).toMatch(re);
}

describe('checkLink', () => {
  it('ethernet: trims the host, takes the port as a number', () => {
    expect(checkLink({ kind: 'ethernet', host: ' 10.0.0.5 ', port: '7422', extra: 1 })).toEqual({ kind: 'ethernet', host: '10.0.0.5', port: 7422 });
    expect(checkLink({ kind: 'ethernet', host: 'dev.local', port: 1 })).toEqual({ kind: 'ethernet', host: 'dev.local', port: 1 });
    expect(checkLink({ kind: 'ethernet', host: '[::1]', port: 65535 })).toMatchObject({ port: 65535 });
  });

  it('ethernet: a bad host or port is refused, naming the field', () => {
    refused(() => checkLink({ kind: 'ethernet', host: '', port: 7422 }), /Ethernet link: "" is not a host/);
    refused(() => checkLink({ kind: 'ethernet', host: 'a b', port: 7422 }), /"a b" is not a host/);
    refused(() => checkLink({ kind: 'ethernet', host: 'http://x', port: 7422 }), /is not a host/);
    refused(() => checkLink({ kind: 'ethernet', port: 7422 }), /"undefined" is not a host/);
    for (const port of [0, 65536, 1.5, 'abc', '', undefined, -1]) refused(() => checkLink({ kind: 'ethernet', host: 'h', port }), /port must be 1-65535/);
  });

  it('serial: path and baud rate required; compress, rateBps and latencyMs optional', () => {
    expect(checkLink({ kind: 'serial', path: ' /dev/ttyUSB0 ', baudRate: '115200' })).toEqual({ kind: 'serial', path: '/dev/ttyUSB0', baudRate: 115200 });
    expect(checkLink({ kind: 'serial', path: 'COM3', baudRate: 9600, compress: true, rateBps: '2500', latencyMs: 40 })).toEqual({
      kind: 'serial',
      path: 'COM3',
      baudRate: 9600,
      compress: true,
      rateBps: 2500,
      latencyMs: 40,
    });
    // 0, empty and null mean "none"; compress only when exactly true.
    expect(checkLink({ kind: 'serial', path: 'p', baudRate: 9600, compress: 'yes', rateBps: 0, latencyMs: '' })).toEqual({ kind: 'serial', path: 'p', baudRate: 9600 });
    expect(checkLink({ kind: 'serial', path: 'p', baudRate: 9600, rateBps: null })).toEqual({ kind: 'serial', path: 'p', baudRate: 9600 });
  });

  it('serial: bad fields are refused, naming them', () => {
    refused(() => checkLink({ kind: 'serial', path: ' ', baudRate: 9600 }), /serial link: choose a port/);
    for (const baudRate of [0, -9600, 1.5, 'fast', undefined]) refused(() => checkLink({ kind: 'serial', path: 'p', baudRate }), /baud rate must be a positive whole number/);
    refused(() => checkLink({ kind: 'serial', path: 'p', baudRate: 9600, rateBps: -1 }), /rateBps must be a whole number/);
    refused(() => checkLink({ kind: 'serial', path: 'p', baudRate: 9600, latencyMs: 'x' }), /latencyMs must be a whole number/);
  });

  it('other kinds and non-objects are refused', () => {
    refused(() => checkLink({ kind: 'wifi' }), /unknown link kind "wifi"/);
    refused(() => checkLink({}), /unknown link kind undefined/);
    refused(() => checkLink(null), /link must be/);
    refused(() => checkLink('ethernet'), /link must be/);
  });
});

describe('checkConnect', () => {
  const link = { kind: 'ethernet', host: 'h', port: 7422 };

  it('role, link, user (default leaf), password and an optional trimmed name', () => {
    expect(checkConnect({ role: 'device', link, user: ' tech ', password: 'pw', saveAs: ' Pump house ' })).toEqual({
      role: 'device',
      link: { kind: 'ethernet', host: 'h', port: 7422 },
      user: 'tech',
      password: 'pw',
      saveAs: 'Pump house',
    });
    expect(checkConnect({ role: 'hub', link, password: 'pw', user: '  ', saveAs: '  ' })).toEqual({ role: 'hub', link: { kind: 'ethernet', host: 'h', port: 7422 }, user: 'leaf', password: 'pw' });
  });

  it('a bad role, a missing password or a bad link is refused, naming the field', () => {
    refused(() => checkConnect({ role: 'laptop', link, password: 'pw' }), /role must be "device" or "hub", got "laptop"/);
    refused(() => checkConnect({ link, password: 'pw' }), /role must be/);
    refused(() => checkConnect({ role: 'device', link, password: '' }), /needs its leaf password/);
    refused(() => checkConnect({ role: 'hub', link, password: 5 }), /connecting to a hub needs its leaf password/);
    refused(() => checkConnect({ role: 'device', link: { kind: 'ethernet', host: 'h', port: 0 }, password: 'pw' }), /port must be/);
    refused(() => checkConnect(undefined), /connect needs/);
  });
});

describe('ConnectionStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'siot-conns-'));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  const file = () => join(dir, 'connections.json');
  const dev = { link: { kind: 'ethernet' as const, host: '10.0.0.5', port: 7422 }, user: 'leaf', password: 'secret' };

  it('starts empty without a file, and writes nothing until something changes', () => {
    const s = new ConnectionStore(dir);
    expect(s.view()).toEqual({ saved: [], active: {} });
    expect(s.active('device')).toBeUndefined();
    expect(existsSync(file())).toBe(false);
  });

  it('persists saved and active connections with mode 0600; survives reopening', () => {
    const s = new ConnectionStore(dir);
    const saved = s.save('Pump house', 'device', dev);
    s.setActive('device', dev);
    expect(saved).toMatchObject({ name: 'Pump house', role: 'device', ...dev });
    expect(saved.id).toMatch(/^[0-9a-f-]{36}$/);
    if (process.platform !== 'win32') expect(statSync(file()).mode & 0o777).toBe(0o600);
    // No temp file is left behind.
    expect(readdirSync(dir)).toEqual(['connections.json']);
    const again = new ConnectionStore(dir);
    expect(again.view()).toEqual(s.view());
    expect(again.active('device')).toEqual(dev);
    // The view never carries the active connection's password.
    expect(again.view().active).toEqual({ device: { link: dev.link, user: 'leaf' } });
    again.setActive('device', undefined);
    expect(new ConnectionStore(dir).view().active).toEqual({});
  });

  it('save updates the entry with the same (name, role), keeping its id; another role is another entry', () => {
    const s = new ConnectionStore(dir);
    const a = s.save('Site', 'device', dev);
    const b = s.save('Site', 'hub', { ...dev, password: 'hubpw' });
    const c = s.save('Site', 'device', { ...dev, password: 'new' });
    expect(c.id).toBe(a.id);
    expect(b.id).not.toBe(a.id);
    const v = new ConnectionStore(dir).view();
    expect(v.saved).toHaveLength(2);
    expect(v.saved.find((x) => x.role === 'device')?.password).toBe('new');
    expect(v.saved.find((x) => x.role === 'hub')?.password).toBe('hubpw');
  });

  it('view returns copies', () => {
    const s = new ConnectionStore(dir);
    s.save('Site', 'device', dev);
    const v = s.view();
    (v.saved[0] as { name: string }).name = 'changed';
    expect(s.view().saved[0]?.name).toBe('Site');
  });

  it('forget removes by id; an unknown id is a not-found error and changes nothing', () => {
    const s = new ConnectionStore(dir);
    const a = s.save('A', 'device', dev);
    s.save('B', 'device', dev);
    let err: unknown;
    try {
      s.forget('nope');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'not-found', message: expect.stringContaining('nope') });
    s.forget(a.id);
    expect(new ConnectionStore(dir).view().saved.map((x) => x.name)).toEqual(['B']);
  });

  it('an unreadable file is moved aside with a warning; the store starts empty and works', () => {
    writeFileSync(file(), '{"saved": [', { mode: 0o600 });
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const s = new ConnectionStore(dir);
    expect(s.view()).toEqual({ saved: [], active: {} });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/could not be read/);
    const aside = readdirSync(dir).filter((f) => f.startsWith('connections.json.unreadable-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0] as string), 'utf8')).toBe('{"saved": [');
    s.save('A', 'device', dev);
    expect(new ConnectionStore(dir).view().saved).toHaveLength(1);
  });

  it('JSON of the wrong shape (null, a list) is handled without throwing', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    writeFileSync(file(), 'null');
    expect(new ConnectionStore(dir).view()).toEqual({ saved: [], active: {} });
    rmSync(file(), { force: true });
    writeFileSync(file(), '[1,2]');
    expect(new ConnectionStore(dir).view()).toEqual({ saved: [], active: {} });
    writeFileSync(file(), '{"saved": "x", "active": null}');
    expect(new ConnectionStore(dir).view()).toEqual({ saved: [], active: {} });
    expect(warn.mock.calls.length).toBeLessThanOrEqual(1);
  });
});
