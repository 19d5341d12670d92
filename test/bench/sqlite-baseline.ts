// Reference row for the benchmark: SIOT's old SQLite store, re-created with
// its schema and write pattern in better-sqlite3, so the JetStream store can
// be compared against it in the same run (see shared notes, baselines.md).
//
// - Write: one transaction per incoming point: select the row by
//   node_id/type/key, update it if present, insert it otherwise.
// - Cold load: in a new process, load every current point into a Map keyed
//   by `node_id.type.key` (sqlite-coldload-child.ts).

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { rng } from '../helpers/rng.ts';

export interface SqliteBaselineOptions {
  /** Directory for the database file; created if missing. Only files in it are touched. */
  dir: string;
  /** Default 10,000. */
  nodes?: number;
  /** Default 10. */
  pointsPerNode?: number;
}

export interface SqliteBaselineResult {
  /** Points written (nodes x pointsPerNode). */
  points: number;
  /** Points per second over the whole write phase, one transaction per point. */
  writesPerSec: number;
  /** Seconds to open the db and fill the Map, measured inside the child process. */
  coldLoadSec: number;
  /** Points the child loaded into its Map. */
  coldLoadPoints: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS node_points (
  id TEXT PRIMARY KEY,
  node_id TEXT,
  type TEXT,
  key TEXT,
  time INTEGER,
  idx REAL,
  value REAL,
  text TEXT,
  data BLOB,
  tombstone INTEGER,
  origin TEXT
);
CREATE INDEX IF NOT EXISTS node_points_node_type_key ON node_points(node_id, type, key);
`;

const DB_FILE = 'siot-sqlite-baseline.sqlite';
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = join(BENCH_DIR, 'sqlite-coldload-child.ts');

interface IncomingPoint {
  nodeId: string;
  type: string;
  key: string;
  /** Nanoseconds since the Unix epoch. */
  time: bigint;
  index: number;
  value: number;
  text: string;
  data: Buffer | null;
  tombstone: number;
  origin: string;
}

/** Point types of a typical SIOT I/O node: [type, key, text?]. Text points
 * carry a string, the others a float value. Cycled when pointsPerNode > 10. */
const NODE_POINTS: ReadonlyArray<readonly [string, string, boolean]> = [
  ['description', '0', true],
  ['units', '0', true],
  ['value', '0', false],
  ['value', '1', false],
  ['scale', '0', false],
  ['offset', '0', false],
  ['min', '0', false],
  ['max', '0', false],
  ['errorCount', '0', false],
  ['id', '0', true],
];
const UNITS = ['°C', 'V', 'A', 'kPa', '%RH', 'L/min', 'kWh'];


function makePoints(nodes: number, perNode: number): IncomingPoint[] {
  const rand = rng(0x5107);
  const t0 = BigInt(Date.now()) * 1_000_000n;
  const out: IncomingPoint[] = [];
  for (let n = 0; n < nodes; n++) {
    const nodeId = randomUUID();
    for (let p = 0; p < perNode; p++) {
      const def = NODE_POINTS[p % NODE_POINTS.length]!;
      const round = Math.floor(p / NODE_POINTS.length);
      const key = round === 0 ? def[1] : String(Number(def[1]) + round * 2);
      let text = '';
      let value = 0;
      if (def[2]) {
        if (def[0] === 'description') text = `Sensor ${n} (cabinet ${Math.floor(n / 16)})`;
        else if (def[0] === 'units') text = UNITS[Math.floor(rand() * UNITS.length)]!;
        else text = `MB-${(n * 7 + p).toString(16).padStart(6, '0')}`;
      } else if (def[0] === 'errorCount') {
        value = Math.floor(rand() * 5);
      } else {
        value = Math.round((rand() * 200 - 50) * 1e4) / 1e4;
      }
      out.push({
        nodeId,
        type: def[0],
        key,
        time: t0 + BigInt(out.length) * 1000n,
        index: 0,
        value,
        text,
        data: null,
        tombstone: 0,
        origin: '',
      });
    }
  }
  return out;
}

function openDb(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  return db;
}

/** Runs the cold-load child and returns its own measurement. */
function coldLoad(file: string): Promise<{ seconds: number; points: number }> {
  return new Promise((resolve, reject) => {
    // `--import tsx` resolves from cwd, hence cwd = repo root.
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`sqlite cold-load child exited with ${code}: ${err.trim()}`));
        return;
      }
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as { seconds: unknown; points: unknown };
        if (typeof r.seconds !== 'number' || typeof r.points !== 'number') throw new Error('bad shape');
        resolve({ seconds: r.seconds, points: r.points });
      } catch (e) {
        reject(new Error(`sqlite cold-load child printed ${JSON.stringify(out)}: ${String(e)}`));
      }
    });
  });
}

export async function runSqliteBaseline(opts: SqliteBaselineOptions): Promise<SqliteBaselineResult> {
  const nodes = opts.nodes ?? 10_000;
  const perNode = opts.pointsPerNode ?? 10;
  await mkdir(opts.dir, { recursive: true });
  const file = join(opts.dir, DB_FILE);
  for (const f of [file, `${file}-wal`, `${file}-shm`]) await rm(f, { force: true });

  const points = makePoints(nodes, perNode);
  const db = openDb(file);
  try {
    const select = db.prepare<[string, string, string], { id: string }>(
      'SELECT id FROM node_points WHERE node_id = ? AND type = ? AND key = ?',
    );
    const update = db.prepare(
      'UPDATE node_points SET time = ?, idx = ?, value = ?, text = ?, data = ?, tombstone = ?, origin = ? WHERE id = ?',
    );
    const insert = db.prepare(
      'INSERT INTO node_points(id, node_id, type, key, time, idx, value, text, data, tombstone, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const write = db.transaction((p: IncomingPoint) => {
      const row = select.get(p.nodeId, p.type, p.key);
      if (row) {
        update.run(p.time, p.index, p.value, p.text, p.data, p.tombstone, p.origin, row.id);
      } else {
        insert.run(randomUUID(), p.nodeId, p.type, p.key, p.time, p.index, p.value, p.text, p.data, p.tombstone, p.origin);
      }
    });

    const t0 = performance.now();
    for (const p of points) write(p);
    const writeSec = (performance.now() - t0) / 1000;

    db.close();
    const cold = await coldLoad(file);
    return {
      points: points.length,
      writesPerSec: points.length / writeSec,
      // Child-internal time: open db -> Map filled; process start excluded.
      coldLoadSec: cold.seconds,
      coldLoadPoints: cold.points,
    };
  } finally {
    if (db.open) db.close();
  }
}

// CLI: `npx tsx test/bench/sqlite-baseline.ts` runs into a temp dir and prints the result.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = await mkdtemp(join(tmpdir(), 'siot-sqlite-baseline-'));
  try {
    const result = await runSqliteBaseline({ dir });
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
