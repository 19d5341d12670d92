// A technician's session in real Chromium against the headless runner with
// a simulated device (real nats-servers): connect, see the tree, edit a
// configuration point and see the device apply it, chart history, export
// and import, leave the device, then bring a hub and watch the upload of
// everything captured reach 100 %.
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { startRunner, type Runner } from './runner.ts';

let runner: Runner;

test.beforeAll(async () => {
  runner = await startRunner(['--demo', '--demo-hub', 'manual', '--demo-device', 'manual', '--demo-nodes', '6', '--demo-period-ms', '500', '--quiet']);
});

test.afterAll(async () => {
  await runner?.stop();
});

async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  await info.attach(name, { body: await page.screenshot(), contentType: 'image/png' });
  await page.screenshot({ path: info.outputPath(`${name}.png`) });
}

test('commission a device end to end', async ({ page }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await test.step('open the printed URL: the key becomes a cookie and leaves the address bar', async () => {
    await page.goto(runner.url);
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByTestId('tree-row').first()).toBeVisible();
  });

  await test.step('connect: a wrong password is refused by the device; the right one links it', async () => {
    await page.getByTestId('tab-connect').click();
    await expect(page.getByTestId('link-device')).toContainText('not set');
    await expect(page.getByTestId('banner')).toContainText('Offline');
    // The saved entry fills the form (host, port, user, password) as a technician would type it.
    await page.getByTestId('saved-connection').filter({ hasText: 'Simulated device' }).getByRole('button', { name: 'Edit' }).click();
    await expect(page.getByTestId('connect-host')).toHaveValue('127.0.0.1');
    const password = await page.getByTestId('connect-password').inputValue();
    await page.getByTestId('connect-password').fill('wrong-password');
    await page.getByTestId('connect-submit').click();
    await expect(page.getByTestId('link-device')).not.toContainText('not set');
    // The link itself comes up (TCP), but the device refuses the leaf login: said on the link.
    await expect(page.getByTestId('link-device')).toContainText('refused the login', { timeout: 30_000 });
    await expect(page.getByTestId('banner')).toContainText('Offline');
    await page.getByTestId('connect-password').fill(password);
    await page.getByTestId('connect-submit').click();
    await expect(page.getByTestId('link-device')).toHaveAttribute('data-state', 'connected');
    await expect(page.getByTestId('banner')).toHaveCount(0, { timeout: 60_000 });
    await expect(page.getByTestId('link-device')).not.toContainText('refused', { timeout: 30_000 });
    await shot(page, info, '1-connect');
  });

  await test.step('the device tree shows the inputs with live values', async () => {
    await page.getByTestId('tab-tree').click();
    await expect(page.getByTestId('tree-row').filter({ hasText: 'simulated device' })).toBeVisible();
    await expect(page.getByTestId('tree-row').filter({ hasText: 'modbusIO' })).toHaveCount(6);
    await page.getByTestId('tree-search').fill('input 2');
    await expect(page.getByTestId('tree-row').filter({ hasText: 'modbusIO' })).toHaveCount(1);
    await page.getByTestId('tree-row').filter({ hasText: 'input 2' }).click();
    const value = page.getByTestId('point-row').and(page.locator('[data-point-type=value]')).getByTestId('point-value');
    const first = await value.textContent();
    await expect(value).not.toHaveText(first ?? '', { timeout: 10_000 });
  });

  await test.step('a history chart draws the samples', async () => {
    const chart = page.getByTestId('history-chart');
    await expect(chart.locator('canvas')).toBeVisible();
    await expect(chart).toContainText(/\d+ samples/);
    await shot(page, info, '2-tree-and-chart');
  });

  await test.step('edit pollPeriod: pending → stored → seen applied on the device', async () => {
    const row = page.getByTestId('point-row').and(page.locator('[data-point-type=pollPeriod]'));
    await row.getByTestId('point-edit').click();
    await row.getByTestId('point-input').fill('250');
    await row.getByTestId('point-save').click();
    const edit = page.getByTestId('edit').first();
    await expect(edit).toContainText('pollPeriod = 250');
    await expect(edit).toHaveAttribute('data-state', 'applied', { timeout: 60_000 });
    await expect(row.getByTestId('point-value')).toHaveText('250');
    // The device's own acknowledgement is in the tree too.
    await expect(page.getByTestId('point-row').and(page.locator('[data-point-type=applied]'))).toBeVisible();
    await shot(page, info, '3-edit-applied');
  });

  await test.step('export the device subtree as SIOT YAML', async () => {
    await page.getByTestId('tree-search').fill('');
    await page.getByTestId('tree-row').filter({ hasText: 'simulated device' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-yaml').click()]);
    const text = readFileSync(await download.path(), 'utf8');
    expect(text).toMatch(/^apiVersion: 1\nnodes:\n {2}- device:/);
    expect(text).toContain('pollPeriod: 250');
  });

  await test.step('import a SIOT YAML file as configuration under the laptop', async () => {
    await page.getByTestId('tree-row').filter({ hasText: 'field laptop' }).click();
    const file = 'apiVersion: 1\nnodes:\n  - group:\n      description: Pump house\n      children:\n        - modbusIO:\n            description: Tank level\n            pollPeriod: 500\n';
    await page.getByTestId('import-file').setInputFiles({ name: 'pump.yaml', mimeType: 'application/yaml', buffer: Buffer.from(file) });
    await expect(page.getByTestId('node-detail')).toContainText('Imported 2 node(s) with 3 point(s) from pump.yaml');
    const group = page.getByTestId('tree-row').filter({ hasText: 'Pump house' });
    await expect(group).toBeVisible();
    await group.getByRole('button', { name: 'expand' }).click();
    await expect(page.getByTestId('tree-row').filter({ hasText: 'Tank level' })).toBeVisible();
  });

  await test.step('leave the device: unplug it, the captured history stays', async () => {
    await page.getByTestId('tab-sync').click();
    await expect(page.getByTestId('upload').and(page.locator('[data-role=hub]'))).toHaveCount(0);
    await page.getByTestId('tab-connect').click();
    await page.getByTestId('link-device').getByRole('button', { name: 'Disconnect' }).click();
    await expect(page.getByTestId('banner')).toContainText('Offline: no device or hub reachable', { timeout: 60_000 });
    await shot(page, info, '4-offline');
  });

  await test.step('back at the office: connect the hub and watch the upload reach 100 %', async () => {
    await page.getByTestId('saved-connection').filter({ hasText: 'Demo hub' }).getByTestId('saved-connect').click();
    await expect(page.getByTestId('link-hub')).toHaveAttribute('data-state', 'connected');
    await page.getByTestId('tab-sync').click();
    const upload = page.getByTestId('upload').and(page.locator('[data-role=hub]'));
    await expect(upload).toHaveAttribute('data-percent', '100', { timeout: 90_000 });
    await expect(page.getByTestId('safe-to-disconnect')).toHaveAttribute('data-safe', 'yes');
    await expect(page.getByTestId('banner')).toHaveCount(0);
    await shot(page, info, '5-upload-complete');
  });

  expect(errors).toEqual([]);
});

test('a wrong or missing key gets a clear refusal, not the app', async ({ page }) => {
  const origin = new URL(runner.url).origin;
  const r = await page.goto(`${origin}/`);
  expect(r?.status()).toBe(401);
  await expect(page.locator('body')).toContainText('open the URL the app printed');
  expect((await page.goto(`${origin}/?key=wrong`))?.status()).toBe(403);
});
