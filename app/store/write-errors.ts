// Why a write failed, in words a user can act on.

/** A write the server refused, or that failed part way; `stored` says which
 * points were acknowledged (and so are in the merged state). */
export class StoreWriteError extends Error {
  constructor(
    message: string,
    readonly stored: number,
    readonly failed: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'StoreWriteError';
  }
}

/** A write that failed without an answer from JetStream may still be stored. */
export function outcomeUnknown(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /timeout|disconnect|store closed|closed before/i.test(msg) && !/no responders/i.test(msg);
}

/** Turns the server's terse refusals into what a user can act on. */
export function describeWriteFailure(e: unknown, hasBudget: boolean): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/insufficient resources|resource limits exceeded|storage.*exceeded/i.test(msg)) {
    return hasBudget
      ? `the disk budget is used up (${msg}); history is thinned automatically, but the current state alone does not fit: raise the budget or free disk space`
      : `nats-server is out of storage (${msg}); free disk space or set a disk budget`;
  }
  if (/store closed/i.test(msg)) return 'the store was closed before the write was acknowledged; it may or may not be stored';
  if (/no responders/i.test(msg)) return `nothing was stored: JetStream did not answer (${msg}); is nats-server restarting? Retry`;
  if (outcomeUnknown(e)) return `nats-server did not acknowledge the write (${msg}); it may or may not be stored (the store checks once the server is back); retry`;
  return msg;
}
