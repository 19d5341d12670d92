// Saved connections and the ones in use, kept in `<dataDir>/connections.json`
// (mode 0600: it holds leaf passwords, like credentials.json beside it).
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientError, type ConnectRequest, type ConnectionsState, type LinkConfig, type PeerRole, type SavedConnection } from '../client/index.ts';

export interface ActiveConnection {
  link: LinkConfig;
  user: string;
  password: string;
}

interface FileShape {
  saved: SavedConnection[];
  active: Partial<Record<PeerRole, ActiveConnection>>;
}

export const ROLES: readonly PeerRole[] = ['device', 'hub'];

/** A link as the renderer sent it, checked field by field. */
export function checkLink(link: unknown): LinkConfig {
  if (typeof link !== 'object' || link === null) throw new ClientError('link must be {kind: "ethernet", host, port} or {kind: "serial", path, baudRate}');
  const l = link as Record<string, unknown>;
  if (l.kind === 'ethernet') {
    const host = typeof l.host === 'string' ? l.host.trim() : '';
    const port = Number(l.port);
    if (!host || /[\s/]/.test(host)) throw new ClientError(`Ethernet link: "${String(l.host)}" is not a host name or address`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ClientError(`Ethernet link: port must be 1-65535 (the device's leaf port, often 7422), got ${String(l.port)}`);
    return { kind: 'ethernet', host, port };
  }
  if (l.kind === 'serial') {
    const path = typeof l.path === 'string' ? l.path.trim() : '';
    const baudRate = Number(l.baudRate);
    if (!path) throw new ClientError('serial link: choose a port (e.g. /dev/ttyUSB0 or COM3)');
    if (!Number.isInteger(baudRate) || baudRate <= 0) throw new ClientError(`serial link: baud rate must be a positive whole number, got ${String(l.baudRate)}`);
    const out: LinkConfig = { kind: 'serial', path, baudRate };
    if (l.compress === true) out.compress = true;
    for (const k of ['rateBps', 'latencyMs'] as const) {
      if (l[k] === undefined || l[k] === null || l[k] === '') continue;
      const n = Number(l[k]);
      if (!Number.isInteger(n) || n < 0) throw new ClientError(`serial link: ${k} must be a whole number ≥ 0`);
      if (n > 0) out[k] = n;
    }
    return out;
  }
  throw new ClientError(`unknown link kind ${JSON.stringify(l.kind)}; use "ethernet" or "serial"`);
}

export function checkConnect(req: unknown): ConnectRequest {
  if (typeof req !== 'object' || req === null) throw new ClientError('connect needs {role, link, user, password}');
  const r = req as Record<string, unknown>;
  if (r.role !== 'device' && r.role !== 'hub') throw new ClientError(`role must be "device" or "hub", got ${JSON.stringify(r.role)}`);
  const user = typeof r.user === 'string' && r.user.trim() ? r.user.trim() : 'leaf';
  if (typeof r.password !== 'string' || r.password === '') throw new ClientError(`connecting to a ${r.role} needs its leaf password (the device shows it; \`npm run sim\` prints it)`);
  const out: ConnectRequest = { role: r.role, link: checkLink(r.link), user, password: r.password };
  if (typeof r.saveAs === 'string' && r.saveAs.trim()) out.saveAs = r.saveAs.trim();
  return out;
}

export class ConnectionStore {
  private data: FileShape = { saved: [], active: {} };
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'connections.json');
    if (existsSync(this.file)) {
      try {
        const d = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<FileShape>;
        this.data = { saved: Array.isArray(d.saved) ? d.saved : [], active: d.active ?? {} };
      } catch (e) {
        // Unreadable: keep it aside rather than lose it, start empty.
        renameSync(this.file, `${this.file}.unreadable-${Date.now()}`);
        process.emitWarning(`saved connections in ${this.file} could not be read (${(e as Error).message}); kept as .unreadable, starting with none`);
      }
    }
  }

  active(role: PeerRole): ActiveConnection | undefined {
    return this.data.active[role];
  }

  setActive(role: PeerRole, c: ActiveConnection | undefined): void {
    if (c) this.data.active[role] = c;
    else delete this.data.active[role];
    this.write();
  }

  save(name: string, role: PeerRole, c: ActiveConnection): SavedConnection {
    const existing = this.data.saved.find((s) => s.name === name && s.role === role);
    const entry: SavedConnection = { id: existing?.id ?? randomUUID(), name, role, link: c.link, user: c.user, password: c.password };
    this.data.saved = [...this.data.saved.filter((s) => s !== existing), entry];
    this.write();
    return entry;
  }

  forget(id: string): void {
    const before = this.data.saved.length;
    this.data.saved = this.data.saved.filter((s) => s.id !== id);
    if (this.data.saved.length === before) throw new ClientError(`no saved connection ${id}`, 'not-found');
    this.write();
  }

  view(): ConnectionsState {
    const active: ConnectionsState['active'] = {};
    for (const role of ROLES) {
      const a = this.data.active[role];
      if (a) active[role] = { link: a.link, user: a.user };
    }
    return { saved: this.data.saved.map((s) => ({ ...s })), active };
  }

  private write(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
