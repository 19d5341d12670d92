import type { StreamRef } from '../store/index.ts';
import type { Hello } from './types.ts';

const decoder = new TextDecoder();

/** A hello as a peer sent it, or null: only well-formed fields are kept
 * (a peer's text is not trusted). */
export function parseHello(data: Uint8Array): Hello | null {
  try {
    const h = JSON.parse(decoder.decode(data)) as Partial<Hello>;
    if (typeof h.id !== 'string' || typeof h.domain !== 'string') return null;
    const wants = h.wants === 'all' || Array.isArray(h.wants) ? h.wants : [];
    const seqs: Record<string, number> = {};
    if (h.seqs && typeof h.seqs === 'object') {
      for (const [k, v] of Object.entries(h.seqs)) if (typeof v === 'number' && /^inst_[^_]+_[^_]+$/.test(k)) seqs[k] = v;
    }
    return { id: h.id, domain: h.domain, role: typeof h.role === 'string' ? h.role : '', wants, seqs };
  } catch {
    return null;
  }
}

/** (boundary, origin) from a stream name; ids in stream names hold no `_`. */
export function refFromName(name: string): StreamRef | null {
  const m = /^inst_([^_]+)_([^_]+)$/.exec(name);
  return m ? { name, boundary: m[1] as string, origin: m[2] as string } : null;
}
