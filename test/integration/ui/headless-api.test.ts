// The headless runner end to end without a browser: a real laptop service
// (its own nats-server), a real simulated device and hub, and the HTTP API
// the renderer uses, including its guards.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientEvent, WriteReceipt } from '../../../app/client/index.ts';
import { startHeadless, type HeadlessServer } from '../../../app/headless/index.ts';
import { startService } from '../../../app/service/index.ts';
import { ApiClient, httpRequest } from '../../helpers/http.ts';
import { removeDir, tempDir } from '../../helpers/server.ts';
import { FAST_SYNC, waitFor } from '../../helpers/topology.ts';

let dir = '';
let service: Awaited<ReturnType<typeof startService>>;
let web: HeadlessServer;
let api: ApiClient;
const SECRET = 'test-secret-0123456789';

beforeAll(async () => {
  dir = tempDir('ui');
  const rendererDir = join(dir, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(rendererDir, 'assets', 'a.js'), 'export {}');
  writeFileSync(join(dir, 'secret.txt'), 'not to be served');
  service = await startService({
    dataDir: join(dir, 'laptop'),
    mode: 'headless',
    appVersion: '0.0.0-test',
    demo: true,
    demoHub: 'manual',
    demoNodes: 3,
    demoPeriodMs: 250,
    syncOptions: FAST_SYNC,
  });
  web = await startHeadless({ service, rendererDir, secret: SECRET });
  api = await ApiClient.signIn(web.url);
}, 120_000);

afterAll(async () => {
  await web?.close();
  await service?.stop();
  removeDir(dir);
}, 60_000);

describe('headless runner: access', () => {
  it('hands the key over once in the URL, then only through an HttpOnly SameSite cookie', async () => {
    expect(web.url).toBe(`${web.origin}/?key=${SECRET}`);
    const r = await httpRequest(web.url);
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('/');
    expect(r.headers['set-cookie']?.[0]).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await httpRequest(`${web.origin}/?key=wrong`)).status).toBe(403);
  });

  it('refuses the API and the page without the cookie, a foreign Host, and a foreign Origin', async () => {
    const body = JSON.stringify({ method: 'info' });
    expect((await httpRequest(`${web.origin}/api/call`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })).status).toBe(401);
    expect((await httpRequest(`${web.origin}/api/call`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: 'siot_key=nope' }, body })).status).toBe(401);
    expect((await httpRequest(`${web.origin}/`)).status).toBe(401);
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1.
    expect((await httpRequest(`${web.origin}/`, { headers: { Host: `evil.example:${web.port}`, Cookie: api.cookie } })).status).toBe(421);
    const cross = await httpRequest(`${web.origin}/api/call`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: api.cookie, Origin: 'http://evil.example' }, body });
    expect(cross.status).toBe(403);
    // A form post (no JSON content type) cannot reach a method.
    expect((await httpRequest(`${web.origin}/api/call`, { method: 'POST', headers: { 'Content-Type': 'text/plain', Cookie: api.cookie }, body })).status).toBe(415);
  });

  it('serves the renderer with a strict CSP and nothing outside its folder', async () => {
    const page = await httpRequest(`${web.origin}/`, { headers: { Cookie: api.cookie } });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'.*script-src 'self'/);
    expect((await httpRequest(`${web.origin}/assets/a.js`)).headers['content-type']).toMatch(/javascript/);
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      expect((await httpRequest(`${web.origin}${p}`)).status, p).toBe(404);
    }
  });

  it('answers unknown methods and bad input with errors a technician can act on', async () => {
    const r = await api.raw('constructor');
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('unknown-method');
    const bad = await api.raw('writePoints', { nodeId: service.instance.id, points: [{ type: 'pollPeriod', value: 'fast', kind: 'float' }] });
    expect(bad.error?.message).toMatch(/"fast" is not a number/);
    const missing = await api.raw('writePoints', { nodeId: 'no-such-node', points: [{ type: 'x', value: 1 }] });
    expect(missing.error?.code).toBe('not-found');
    const link = await api.raw('connect', { role: 'device', link: { kind: 'ethernet', host: 'dev', port: 99999 }, user: 'leaf', password: 'x' });
    expect(link.error?.message).toMatch(/port must be 1-65535/);
  });
});

describe('headless runner: commissioning through the API', () => {
  it('turns leaf compression off on the device link, in both directions', async () => {
    const deviceId = service.demo?.device.id as string;
    type Leafz = { leafs?: Array<{ name: string; compression: string }> };
    const leafz = async (monitor: number) => (await (await fetch(`http://127.0.0.1:${monitor}/leafz`)).json()) as Leafz;
    let ours: string | undefined;
    await waitFor('the device link', async () => {
      ours = (await leafz(service.instance.server.ports.monitor)).leafs?.find((l) => l.name === `siot_${deviceId}`)?.compression;
      return ours !== undefined;
    });
    expect(ours).toBe('off');
    const theirs = (await leafz(service.demo?.device.server.ports.monitor as number)).leafs?.find((l) => l.name === `siot_${service.instance.id}`);
    expect(theirs?.compression).toBe('off');
  });

  it('shows the device tree and live values, and follows an edit to "seen applied" on the device', async () => {
    const info = await api.call('info');
    expect(info.mode).toBe('headless');
    expect(info.demo).toBe(true);
    expect(info.natsServerVersion).toMatch(/^2\.1\d\./);
    const deviceId = service.demo?.device.id as string;
    await waitFor('the device inputs on the laptop', async () => (await api.call('tree')).nodes.filter((n) => n.type === 'modbusIO' && n.boundary === deviceId).length === 3);
    const tree = await api.call('tree');
    const input = tree.nodes.find((n) => n.type === 'modbusIO') as (typeof tree.nodes)[number];
    expect(input.points.find((p) => p.type === 'description')?.value).toMatch(/^input \d$/);

    const events = api.events();
    try {
      await waitFor('live point events', () => events.seen.some((e) => e.kind === 'points' && e.changes.some((c) => c.nodeId === input.id && c.point.type === 'value')));
      const receipt: WriteReceipt = await api.call('writePoints', { nodeId: input.id, points: [{ type: 'pollPeriod', value: 100 }] });
      expect(receipt.state).toBe('stored');
      expect(receipt.remote).toBe(true);
      expect(receipt.boundary).toBe(deviceId);
      const states = () => events.seen.filter((e): e is Extract<ClientEvent, { kind: 'write' }> => e.kind === 'write' && e.receipt.id === receipt.id).map((e) => e.receipt.state);
      await waitFor('the device to report the edit applied', () => states().includes('applied'), 30_000);
      expect(service.demo?.sim.periods().get(input.id)).toBe(100);
      expect(states().filter((s) => s === 'applied')).toHaveLength(1);
    } finally {
      events.close();
    }
  });

  it('charts history and exports it as CSV', async () => {
    const input = (await api.call('tree')).nodes.find((n) => n.type === 'modbusIO') as { id: string };
    await waitFor('a few samples', async () => (await api.call('history', { nodeId: input.id, type: 'value' })).times.length >= 5);
    const h = await api.call('history', { nodeId: input.id, type: 'value' });
    expect([...h.times].sort((a, b) => a - b)).toEqual(h.times);
    expect(h.values.every((v) => typeof v === 'number')).toBe(true);
    const csv = await api.call('exportCsv', { nodeId: input.id, type: 'value' });
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('time,time_ns,node_id,type,key,value,tombstone,origin,instance');
    expect(lines.length).toBeGreaterThanOrEqual(h.times.length + 1);
    expect(csv.filename).toMatch(/^input_\d-value\.csv$/);
    // The whole node: every point type's history in one file.
    const all = await api.call('exportCsv', { nodeId: input.id, type: '' });
    expect(all.filename).toMatch(/-all\.csv$/);
    const types = new Set(all.text.trim().split('\r\n').slice(1).map((l) => l.split(',')[3]));
    expect([...types].sort()).toEqual(expect.arrayContaining(['description', 'pollPeriod', 'value']));
    expect((await api.raw('history', { nodeId: input.id, type: '' })).error?.message).toMatch(/needs a point type/);
    const bad = await api.raw('history', { nodeId: input.id, type: 'value', limit: 10_000_000 });
    expect(bad.error?.message).toMatch(/limit must be/);
  });

  it('exports a subtree as SIOT YAML and imports it back as configuration', async () => {
    const deviceId = service.demo?.device.id as string;
    const out = await api.call('exportYaml', { nodeId: deviceId });
    expect(out.text).toMatch(/^apiVersion: 1\nnodes:\n {2}- device:\n/);
    expect(out.text).toContain('- modbusIO:');
    expect(out.text).toContain('description: input 1');
    const file = 'apiVersion: 1\nnodes:\n  - group:\n      description: Pump house\n      children:\n        - modbusIO:\n            description: Tank level\n            pollPeriod: 500\n            edgePoints:\n              role: sensor\n';
    const root = service.instance.id;
    const r = await api.call('importYaml', { parentId: root, text: file });
    expect(r).toMatchObject({ nodes: 2, points: 4 });
    const tree = await api.call('tree');
    const group = tree.nodes.find((n) => n.id === r.nodeIds[0]);
    expect(group?.parent).toBe(root);
    const tank = tree.nodes.find((n) => n.parent === group?.id);
    expect(tank?.type).toBe('modbusIO');
    expect(tank?.points.find((p) => p.type === 'pollPeriod')).toMatchObject({ kind: 'int', value: 500 });
    expect(tank?.edgePoints.find((p) => p.type === 'role')?.value).toBe('sensor');
    const again = await api.call('exportYaml', { nodeId: group?.id as string });
    expect(again.text).toBe(file);
    const broken = await api.raw('importYaml', { parentId: root, text: 'nodes:\n  - id: x\n    type: device\n' });
    expect(broken.error?.code).toBe('bad-file');
    expect(broken.error?.message).toMatch(/old export format/);
  });

  it('after leaving the device, uploads everything captured to a hub connected later (safe to disconnect)', async () => {
    const conns = await api.call('connections');
    const hub = conns.saved.find((s) => s.role === 'hub');
    expect(hub?.name).toBe('Demo hub');
    expect(conns.active.hub).toBeUndefined();
    // Leaving the device first, as a technician does: its history stops
    // growing here, so "everything uploaded" is a fixed target.
    expect((await api.call('disconnect', { role: 'device' })).active.device).toBeUndefined();
    await api.call('connect', { role: 'hub', link: hub!.link, user: hub!.user, password: hub!.password });
    const hubId = service.demo?.hub.id as string;
    await waitFor('the hub to hold all of our edits', async () => {
      const s = await api.call('status');
      const peer = s.sync.peers.find((p) => p.id === hubId);
      return peer?.reachable === true && peer.upstreamComplete && s.sync.safeToDisconnect;
    }, 60_000);
    const s = await api.call('status');
    expect(s.links.find((l) => l.name === 'hub')?.state).toBe('connected');
    // The hub link keeps nats-server's compression (s2_auto); the device
    // link had it off (the serial bridge compresses better).
    const leafz = (await (await fetch(`http://127.0.0.1:${service.instance.server.ports.monitor}/leafz`)).json()) as { leafs?: Array<{ name: string; compression: string }> };
    expect(leafz.leafs?.find((l) => l.name === `siot_${hubId}`)?.compression).not.toBe('off');
    expect(s.server.state).toBe('ready');
    // The connection is remembered for the next start.
    expect((await api.call('connections')).active.hub?.link).toEqual(hub!.link);
  });
});

