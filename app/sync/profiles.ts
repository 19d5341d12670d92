import type { SyncOptions } from './types.ts';

/**
 * Sync timing for an instance on a metered cellular link (Cat-M, NB-IoT):
 * fewer idle bytes, at the price of noticing a silent link later.
 * - pull heartbeats every 20 s instead of 5 s: the stall watchdog (2 ×
 *   heartbeat + 1 s, plus what is still on its way) then calls a silent
 *   link dead after ~41 s instead of ~11 s; a link that drops outright is
 *   noticed as before, by the leaf connection;
 * - an idle pull request lives 2 min instead of 30 s (each renewal is a
 *   request up and a status down);
 * - hellos every 2 min instead of 30 s (a new stream or progress still
 *   goes out within seconds: those are announced when they happen).
 * Measured in docs/sync-decision.md ("Cellular timing").
 */
export const CELLULAR_SYNC: SyncOptions = {
  heartbeatMs: 20_000,
  pullExpiresMs: 120_000,
  helloIntervalMs: 120_000,
};
