import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { NatsServer, connectToServer, findNatsServer, jetStreamDomain, loadOrCreateCredentials } from '../../../app/nats/index.ts';
import { removeDir, startTestServer, tempDir } from '../../helpers/server.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe('NatsServer', () => {
  it('starts on free loopback ports with JetStream in the instance domain', async () => {
    const { server, dispose } = await startTestServer('alpha');
    cleanups.push(dispose);
    expect(server.status.state).toBe('ready');
    expect(server.status.version).toMatch(/^2\.1\d+\.\d+/);
    expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    const nc = await connectToServer(server, 'test');
    cleanups.push(() => nc.close());
    const jsm = await jetstreamManager(nc);
    const info = await jsm.getAccountInfo();
    expect(info.domain).toBe(jetStreamDomain('alpha'));
  });

  it('keeps the streams of a data dir from before the named account (JetStream moved from $G to SIOT)', async () => {
    const dataDir = tempDir('acct');
    cleanups.push(() => removeDir(dataDir));
    const first = await startTestServer('acct', { dataDir });
    let nc = await connectToServer(first.server, 'test');
    await (await jetstreamManager(nc)).streams.add({ name: 'kept', subjects: ['kept.>'] });
    await nc.request('kept.x', new TextEncoder().encode('v'));
    await nc.close();
    await first.dispose();
    // The layout a data dir had when JetStream lived in the global account.
    const js = join(first.server.storeDir, 'jetstream');
    renameSync(join(js, 'SIOT'), join(js, '$G'));
    const again = await startTestServer('acct', { dataDir });
    cleanups.push(again.dispose);
    nc = await connectToServer(again.server, 'test');
    cleanups.push(() => nc.close());
    expect((await (await jetstreamManager(nc)).streams.info('kept')).state.messages).toBe(1);
  });

  it('refuses clients without the credentials', async () => {
    const { server, dispose } = await startTestServer('beta');
    cleanups.push(dispose);
    await expect(connect({ servers: server.url, user: 'app', pass: 'wrong', maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization/i);
    await expect(connect({ servers: server.url, maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization/i);
  });

  it('restarts after kill -9 on the same ports and clients reconnect', async () => {
    const { server, dispose } = await startTestServer('gamma');
    cleanups.push(dispose);
    const before = { ...server.ports };
    const nc = await connectToServer(server, 'test');
    cleanups.push(() => nc.close());
    const crashed = once(server, 'crash');
    const restarted = once(server, 'restarted');
    const reconnected = (async () => {
      for await (const s of nc.status()) if (s.type === 'reconnect') return;
    })();
    process.kill(server.pid as number, 'SIGKILL');
    const [err] = (await crashed) as [Error];
    expect(err.message).toMatch(/exited unexpectedly \(signal SIGKILL\)/);
    await restarted;
    expect(server.ports).toEqual(before);
    expect(server.status.restarts).toBe(1);
    await reconnected;
    const jsm = await jetstreamManager(nc);
    expect((await jsm.getAccountInfo()).domain).toBe(jetStreamDomain('gamma'));
  });

  it('reports a startup failure with the server log', async () => {
    const dataDir = tempDir('bad');
    cleanups.push(() => removeDir(dataDir));
    const creds = loadOrCreateCredentials(dataDir);
    // A file where the store directory must go makes JetStream fail to start.
    writeFileSync(join(dataDir, 'jetstream-store'), 'not a directory');
    const server = new NatsServer({ instanceId: 'bad', dataDir, binary: findNatsServer().path, clientCredentials: creds.client, readyTimeoutMs: 10_000 });
    await expect(server.start()).rejects.toThrow(/nats-server (exited during startup|did not become ready)[\s\S]*Last log lines/);
  });

  it('stops gracefully and does not restart', async () => {
    const { server, dispose } = await startTestServer('delta');
    const pid = server.pid as number;
    await server.stop();
    expect(server.status.state).toBe('stopped');
    expect(() => process.kill(pid, 0)).toThrow();
    await dispose();
  });

  it('finds no binary and says how to get one', () => {
    expect(() => findNatsServer({ env: { PATH: '/nonexistent' }, resourcesPath: '/nope', cacheDir: '/nope' })).toThrow(
      /no nats-server >= 2\.10\.0 found.*npm run setup/,
    );
  });

  it('rejects an explicit SIOT_NATS_SERVER that is wrong instead of silently using another', () => {
    expect(() => findNatsServer({ env: { SIOT_NATS_SERVER: '/nope/nats-server', PATH: '' } })).toThrow(/SIOT_NATS_SERVER=\/nope\/nats-server does not exist/);
  });

  it('rejects a server older than 2.10 on PATH', () => {
    const dir = tempDir('old');
    cleanups.push(() => removeDir(dir));
    writeFileSync(join(dir, 'nats-server'), '#!/bin/sh\necho "nats-server: v2.9.10"\n', { mode: 0o755 });
    expect(() => findNatsServer({ env: { PATH: dir }, cacheDir: '/nope' })).toThrow(/nats-server is 2\.9\.10/);
  });
});

describe('NatsServer: one store, one server', () => {
  it('refuses a second server on the same data dir in this process', async () => {
    const { server, dataDir, dispose } = await startTestServer('twice');
    cleanups.push(dispose);
    const creds = loadOrCreateCredentials(dataDir);
    const second = new NatsServer({ instanceId: 'twice', dataDir, binary: findNatsServer().path, clientCredentials: creds.client });
    await expect(second.start()).rejects.toThrow(/another nats-server of this app is using/);
    expect(server.status.state).toBe('ready');
  });

  it('stops an orphaned server left by a killed app before opening the store', async () => {
    const dataDir = tempDir('orphan');
    cleanups.push(() => removeDir(dataDir));
    const creds = loadOrCreateCredentials(dataDir);
    // Start a server the way a crashed app would leave it: running, untracked.
    const first = new NatsServer({ instanceId: 'orphan', dataDir, binary: findNatsServer().path, clientCredentials: creds.client, restart: false });
    await first.start();
    const orphanPid = first.pid as number;
    // Forget it without stopping it (as if this process had been SIGKILLed).
    first.removeAllListeners();
    (first as unknown as { child: unknown }).child = undefined;
    await first.stop();
    expect(() => process.kill(orphanPid, 0)).not.toThrow();
    const second = new NatsServer({ instanceId: 'orphan', dataDir, binary: findNatsServer().path, clientCredentials: creds.client });
    await second.start();
    cleanups.push(() => second.stop());
    expect(() => process.kill(orphanPid, 0)).toThrow();
    expect(second.status.state).toBe('ready');
  });

  it('refuses start() while a restart is pending', async () => {
    const { server, dispose } = await startTestServer('pending', { backoffMs: 2_000 });
    cleanups.push(dispose);
    const restarting = once(server, 'state');
    process.kill(server.pid as number, 'SIGKILL');
    await restarting;
    await expect(server.start()).rejects.toThrow(/stop\(\) it before starting it again/);
  });
});
