// The preload: the renderer's only door to the main process. Electron runs a
// sandboxed preload as a plain CommonJS script whose `require` knows only
// 'electron' and a few built-ins, so this file imports nothing of ours at run
// time (types only) and is compiled on its own to preload.cjs by
// build/scripts/build-electron.mjs. It exposes exactly
//   window.siot = { call(method, arg?), onEvent(listener) }
// and never ipcRenderer itself, so the page can reach no other channel.
import { contextBridge, ipcRenderer } from 'electron';
import type { ClientEvent, WireError } from '../client/index.ts';

// Repeated from ipc.ts (a sandboxed preload cannot import it); the wiring
// test runs this file against ipc.ts to prove the two agree.
const CALL_CHANNEL = 'siot:call';
const EVENT_CHANNEL = 'siot:event';

type CallEnvelope = { ok: true; value: unknown } | { ok: false; error: WireError };

contextBridge.exposeInMainWorld('siot', {
  async call(method: string, arg?: unknown): Promise<unknown> {
    const reply = (await ipcRenderer.invoke(CALL_CHANNEL, method, arg)) as CallEnvelope;
    if (reply.ok) return reply.value;
    // The message is what the UI shows (contextBridge carries an Error's
    // message into the page, not its other fields).
    throw new Error(reply.error.message);
  },
  onEvent(listener: (e: ClientEvent) => void): () => void {
    const forward = (_event: unknown, e: ClientEvent) => listener(e);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
    };
  },
});
