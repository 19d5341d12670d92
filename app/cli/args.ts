/** Small helpers shared by the command-line entries. */
export function intArg(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name} must be a whole number, got "${v}"\n`);
    process.exit(2);
  }
  return n;
}

/** Stops `stop` on Ctrl-C or SIGTERM, once, then exits. */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const run = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`siot: ${signal}: stopping\n`);
    await stop().catch((e: Error) => process.stderr.write(`siot: stop failed: ${e.message}\n`));
    process.exit(0);
  };
  process.on('SIGINT', () => void run('SIGINT'));
  process.on('SIGTERM', () => void run('SIGTERM'));
}
