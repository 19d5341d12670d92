// Cold-load half of the SQLite baseline (see sqlite-baseline.ts). Run in a
// fresh process:
//
//   node --import tsx test/bench/sqlite-coldload-child.ts <dbfile>
//
// Opens SIOT's old `node_points` table and loads every current point into a
// Map keyed by `node_id.type.key`, the way SIOT's SQLite store rebuilt its
// in-memory view on start. Prints `{ "seconds": n, "points": n }` on stdout.
//
// The time is measured inside this process, from just before the database is
// opened until the Map is filled: Node start-up, tsx and loading the
// better-sqlite3 native module are NOT included.

import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';

/** One row of `node_points` as SIOT held it in memory. */
interface SqlitePoint {
  id: string;
  nodeId: string;
  type: string;
  key: string;
  /** Nanoseconds since the Unix epoch. */
  time: bigint;
  index: number;
  value: number;
  text: string;
  data: Uint8Array | null;
  tombstone: number;
  origin: string;
}

interface Row {
  id: string;
  node_id: string;
  type: string;
  key: string;
  time: bigint;
  idx: number;
  value: number | null;
  text: string | null;
  data: Buffer | null;
  tombstone: bigint | null;
  origin: string | null;
}

function main(): void {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: sqlite-coldload-child.ts <dbfile>\n');
    process.exit(2);
  }

  const t0 = performance.now();
  const db = new Database(file, { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const stmt = db
    .prepare(
      'SELECT id, node_id, type, key, time, idx, value, text, data, tombstone, origin FROM node_points',
    )
    // `time` is int64 nanoseconds: read it as bigint so it is not rounded.
    .safeIntegers(true);
  const points = new Map<string, SqlitePoint>();
  for (const r of stmt.iterate() as IterableIterator<Row>) {
    points.set(`${r.node_id}.${r.type}.${r.key}`, {
      id: r.id,
      nodeId: r.node_id,
      type: r.type,
      key: r.key,
      time: r.time,
      index: r.idx,
      value: r.value ?? 0,
      text: r.text ?? '',
      data: r.data,
      tombstone: r.tombstone === null ? 0 : Number(r.tombstone),
      origin: r.origin ?? '',
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  db.close();

  process.stdout.write(JSON.stringify({ seconds, points: points.size }) + '\n');
}

main();
