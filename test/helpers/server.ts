import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsServer, findNatsServer, loadOrCreateCredentials, type NatsServerOptions } from '../../app/nats/index.ts';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `siot-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A real nats-server in a fresh data dir, stopped and removed by `dispose`. */
export async function startTestServer(
  name: string,
  extra: Partial<NatsServerOptions> = {},
): Promise<{ server: NatsServer; dataDir: string; dispose: () => Promise<void> }> {
  const dataDir = extra.dataDir ?? tempDir(name);
  const creds = loadOrCreateCredentials(dataDir);
  const server = new NatsServer({
    instanceId: name,
    dataDir,
    binary: findNatsServer().path,
    clientCredentials: creds.client,
    backoffMs: 50,
    ...extra,
  });
  await server.start();
  return {
    server,
    dataDir,
    dispose: async () => {
      await server.stop();
      if (!extra.dataDir) removeDir(dataDir);
    },
  };
}
