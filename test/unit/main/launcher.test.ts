// `npm start`'s choice between the desktop app and the headless runner.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planLaunch, type PlanInput } from '../../../app/main/launcher.ts';

const root = '/work/p';
const pkg = join(root, 'node_modules', 'electron');

function input(files: Record<string, string>, over: Partial<PlanInput> = {}): PlanInput {
  return {
    root,
    args: [],
    env: { DISPLAY: ':0' },
    platform: 'linux',
    exists: (p) => p in files,
    read: (p) => files[p] ?? '',
    ...over,
  };
}

const installed = { [pkg]: '', [join(pkg, 'path.txt')]: 'electron', [join(pkg, 'dist', 'electron')]: '' };

describe('npm start', () => {
  it('runs Electron from the path the electron package recorded, with the demo by default', () => {
    expect(planLaunch(input(installed))).toEqual({ mode: 'electron', electron: join(pkg, 'dist', 'electron'), args: ['--demo'] });
  });

  it('passes arguments through and notes the headless-only connection options', () => {
    const plan = planLaunch(input(installed, { args: ['--device', '10.0.0.5:7422'] }));
    expect(plan).toMatchObject({ mode: 'electron', args: ['--device', '10.0.0.5:7422'] });
    expect(plan.mode === 'electron' && plan.note).toMatch(/Connections screen.*SIOT_HEADLESS=1/);
  });

  it('falls back to headless when the binary was never downloaded (npm install here)', () => {
    const plan = planLaunch(input({ [pkg]: '' }));
    expect(plan).toEqual({ mode: 'headless', reason: expect.stringMatching(/Electron's binary is not installed.*npx install-electron/) });
  });

  it('falls back when path.txt names a binary that is gone, or electron is not installed', () => {
    expect(planLaunch(input({ [pkg]: '', [join(pkg, 'path.txt')]: 'electron' }))).toMatchObject({ mode: 'headless', reason: expect.stringMatching(/is missing/) });
    expect(planLaunch(input({}))).toMatchObject({ mode: 'headless', reason: expect.stringMatching(/npm ci/) });
  });

  it('honours ELECTRON_OVERRIDE_DIST_PATH like the electron package does', () => {
    const files = { '/opt/electron/electron': '' };
    expect(planLaunch(input(files, { env: { DISPLAY: ':0', ELECTRON_OVERRIDE_DIST_PATH: '/opt/electron' } }))).toMatchObject({ mode: 'electron', electron: '/opt/electron/electron' });
    expect(planLaunch(input({}, { env: { DISPLAY: ':0', ELECTRON_OVERRIDE_DIST_PATH: '/nope' } }))).toMatchObject({ mode: 'headless', reason: expect.stringMatching(/ELECTRON_OVERRIDE_DIST_PATH/) });
  });

  it('runs headless without a display, when asked, or for CLI-only options', () => {
    expect(planLaunch(input(installed, { env: {} }))).toMatchObject({ mode: 'headless', reason: expect.stringMatching(/no display/) });
    expect(planLaunch(input(installed, { env: { WAYLAND_DISPLAY: 'wayland-0' } }))).toMatchObject({ mode: 'electron' });
    expect(planLaunch(input(installed, { env: {}, platform: 'win32' }))).toMatchObject({ mode: 'electron' });
    expect(planLaunch(input(installed, { env: { DISPLAY: ':0', SIOT_HEADLESS: '1' } }))).toMatchObject({ mode: 'headless', reason: expect.stringMatching(/SIOT_HEADLESS/) });
    expect(planLaunch(input(installed, { args: ['--list-ports'] }))).toMatchObject({ mode: 'headless' });
  });
});
