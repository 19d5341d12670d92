// The application menu: File → Export… (the whole tree as YAML, saved where
// the technician chooses) and Help → About (app and nats-server versions).
// Both go through the same ClientApi the renderer uses.
import { writeFile } from 'node:fs/promises';
import type { ClientApi } from '../client/index.ts';
import type { DialogLike, MenuItemLike } from './electron-like.ts';

export interface MenuActions {
  exportTree(): void;
  showAbout(): void;
}

export function menuTemplate(platform: NodeJS.Platform, devTools: boolean, actions: MenuActions): MenuItemLike[] {
  const view: MenuItemLike[] = [{ role: 'reload' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }];
  // DevTools only in development: a packaged app has no use for them on site.
  if (devTools) view.push({ type: 'separator' }, { role: 'toggleDevTools' });
  return [
    // macOS puts About/Quit under the app's own menu; keep its standard one.
    ...(platform === 'darwin' ? [{ role: 'appMenu' } as MenuItemLike] : []),
    {
      label: '&File',
      submenu: [{ label: 'Export…', accelerator: 'CmdOrCtrl+E', click: actions.exportTree }, { type: 'separator' }, { role: 'quit' }],
    },
    { role: 'editMenu' },
    { label: '&View', submenu: view },
    { label: '&Help', submenu: [{ label: 'About', click: actions.showAbout }] },
  ];
}

/** Exports the instance's whole tree (from its root) as YAML. Returns the
 * file written, or null when the technician cancelled. */
export async function exportTree(api: ClientApi, dialog: DialogLike, write = writeFile): Promise<string | null> {
  const { rootId } = await api.tree();
  const file = await api.exportYaml({ nodeId: rootId });
  const choice = await dialog.showSaveDialog({ title: 'Export the node tree', defaultPath: file.filename });
  if (choice.canceled || !choice.filePath) return null;
  await write(choice.filePath, file.text, 'utf8');
  return choice.filePath;
}

export async function showAbout(api: ClientApi, dialog: DialogLike): Promise<void> {
  const info = await api.info();
  await dialog.showMessageBox({
    type: 'info',
    title: `About ${info.appName}`,
    message: `${info.appName} ${info.appVersion}`,
    detail: [`nats-server ${info.natsServerVersion}`, `Instance ${info.instanceId}`, `Data folder ${info.dataDir}`].join('\n'),
    buttons: ['OK'],
    noLink: true,
  });
}
