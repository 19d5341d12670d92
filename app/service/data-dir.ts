import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_NAME = 'siot-field-commissioner';

/** The same folder Electron's `app.getPath('userData')` gives, so the
 * headless runner and the desktop app share one store. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.SIOT_DATA_DIR) return env.SIOT_DATA_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), APP_NAME);
}
