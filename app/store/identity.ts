import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateToken } from '../siot/index.ts';

export interface InstanceIdentity {
  /** The instance id, which is also the id of its root node. */
  id: string;
  createdAt: string;
}

/** The instance id is created once per data dir and kept: every stream this
 * instance writes is named after it, so a new id means a new origin. */
export function loadOrCreateIdentity(dataDir: string, preferredId?: string): InstanceIdentity {
  const path = join(dataDir, 'instance.json');
  if (existsSync(path)) {
    let parsed: Partial<InstanceIdentity>;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<InstanceIdentity>;
    } catch (e) {
      throw new Error(`${path} is not valid JSON (${(e as Error).message}); restore it from a backup — deleting it makes this a new instance`);
    }
    if (typeof parsed.id !== 'string' || !parsed.id) throw new Error(`${path} has no instance id; restore it from a backup`);
    if (preferredId && preferredId !== parsed.id) {
      throw new Error(`data dir ${dataDir} belongs to instance ${parsed.id}, not ${preferredId}; use another data dir`);
    }
    return { id: parsed.id, createdAt: parsed.createdAt ?? '' };
  }
  const id = preferredId ?? randomUUID();
  validateToken('instance id', id);
  if (id.includes('_')) throw new Error(`instance id "${id}" may not contain "_": it separates ids in stream names`);
  mkdirSync(dataDir, { recursive: true });
  const identity: InstanceIdentity = { id, createdAt: new Date().toISOString() };
  // Write-then-rename so a crash never leaves a half-written identity.
  writeFileSync(path + '.tmp', JSON.stringify(identity, null, 2) + '\n');
  renameSync(path + '.tmp', path);
  return identity;
}
