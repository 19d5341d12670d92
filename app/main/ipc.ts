// The IPC contract between preload.ts and the main process. preload.ts runs
// in Electron's sandbox, where it cannot import this file, so it repeats the
// channel names; the wiring test sends every client method through both
// sides to prove they agree.
import { dispatch, toWireError, type ClientApi, type ClientEvent, type WireError } from '../client/index.ts';
import type { IpcMainLike, WebContentsLike } from './electron-like.ts';
import { isAppUrl } from './security.ts';

/** renderer → main, `ipcRenderer.invoke(CALL_CHANNEL, method, arg)`. */
export const CALL_CHANNEL = 'siot:call';
/** main → renderer, `webContents.send(EVENT_CHANNEL, ClientEvent)`. */
export const EVENT_CHANNEL = 'siot:event';

/** What a call returns over IPC. Errors travel as values because Electron
 * rewrites the message of an error thrown from `ipcMain.handle` ("Error
 * invoking remote method ..."), and the technician must see ours. */
export type CallEnvelope = { ok: true; value: unknown } | { ok: false; error: WireError };

/**
 * Serves `siot:call` from `getApi()`, which may wait for the service to
 * start (or restart). Only our own pages may call: a frame from anywhere
 * else (there should be none; see security.ts) is refused.
 */
export function registerIpc(ipcMain: IpcMainLike, getApi: () => Promise<ClientApi>): () => void {
  ipcMain.handle(CALL_CHANNEL, async (event, method, arg): Promise<CallEnvelope> => {
    if (!isAppUrl(event.senderFrame?.url)) {
      return { ok: false, error: { message: `refused a call from ${event.senderFrame?.url ?? 'a closed frame'}: only the app's own pages may call`, code: 'forbidden' } };
    }
    try {
      return { ok: true, value: await dispatch(await getApi(), method, arg) };
    } catch (e) {
      return { ok: false, error: toWireError(e) };
    }
  });
  return () => ipcMain.removeHandler(CALL_CHANNEL);
}

/** Forwards a service event to the window, if it is still there. */
export function sendEvent(contents: WebContentsLike | undefined, event: ClientEvent): void {
  if (contents && !contents.isDestroyed()) contents.send(EVENT_CHANNEL, event);
}
