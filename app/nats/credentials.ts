import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Credentials } from './types.ts';

export interface InstanceCredentials {
  /** For clients of this instance's own server (the app, the UI bridge). */
  client: Credentials;
  /** For other instances dialing this instance's leaf listener. */
  leaf: Credentials;
}

function secret(): string {
  return randomBytes(24).toString('base64url');
}

/** Credentials are created once per data dir and kept (owner-readable only),
 * so a restarted server accepts the clients and leaf remotes it had. */
export function loadOrCreateCredentials(dataDir: string): InstanceCredentials {
  const path = join(dataDir, 'credentials.json');
  if (existsSync(path)) {
    const c = JSON.parse(readFileSync(path, 'utf8')) as Partial<InstanceCredentials>;
    if (c.client?.user && c.client.password && c.leaf?.user && c.leaf.password) {
      return { client: c.client, leaf: c.leaf };
    }
    throw new Error(`${path} is incomplete; delete it to create new credentials (connected instances will need the new leaf password)`);
  }
  mkdirSync(dataDir, { recursive: true });
  const creds: InstanceCredentials = {
    client: { user: 'app', password: secret() },
    leaf: { user: 'leaf', password: secret() },
  };
  writeFileSync(path, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  return creds;
}
