// A leaf remote that is refused (wrong password, no permission) is only
// visible in nats-server's log: the TCP link through our relay is up, so
// the link alone looks healthy. This reads those log lines and pins them on
// the link (relay slot) they came through, so the Connect screen can say
// "wrong password" instead of staying silently offline.

/** How long an error stays shown after its last occurrence (remotes retry
 * about every second, so a persisting problem keeps it fresh). */
export const LEAF_ERROR_TTL_MS = 10_000;

export interface LeafLogError {
  /** The remote address as the server logs it: our relay slot's port. */
  port: number;
  error: string;
}

const LINE = /\s(?:\d{1,3}\.){3}\d{1,3}:(\d+) - lid:\d+ - Leafnode Error '([^']+)'/;

export function parseLeafError(line: string): LeafLogError | undefined {
  const m = LINE.exec(line);
  return m ? { port: Number(m[1]), error: m[2] as string } : undefined;
}

/** What to tell the technician about a leaf error from a device or hub. */
export function explainLeafError(role: string, error: string): string {
  if (/authorization violation/i.test(error)) return `the ${role} refused the login (${error}): check the leaf user and password`;
  if (/permissions? violation/i.test(error)) return `the ${role} refused what this laptop may do (${error}): its leaf user lacks permissions`;
  return `the ${role}'s server closed the leaf connection: ${error}`;
}

export class LeafErrors {
  private readonly last = new Map<string, { message: string; at: number }>();

  constructor(private readonly roleOfPort: (port: number) => string | undefined) {}

  /** Returns the role whose error changed, if any. */
  onLog(line: string, now = Date.now()): string | undefined {
    const e = parseLeafError(line);
    if (!e) return undefined;
    const role = this.roleOfPort(e.port);
    if (!role) return undefined;
    const message = explainLeafError(role, e.error);
    const before = this.current(role, now);
    this.last.set(role, { message, at: now });
    return before === message ? undefined : role;
  }

  current(role: string, now = Date.now()): string | undefined {
    const e = this.last.get(role);
    return e && now - e.at < LEAF_ERROR_TTL_MS ? e.message : undefined;
  }

  clear(role: string): void {
    this.last.delete(role);
  }
}
