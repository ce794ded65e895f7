import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startNginxOrigin, startProxy, type NginxOrigin, type ProxyHandle, type Spawned } from '../support/index.ts';
import { publishClip } from '../../services/rtmp-edge/test/e2e-helpers.ts';

/** Debian's package (scripts/install-test-deps.sh installs it); a missing browser fails the test. */
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'console-token';
/** Screenshots for a person to look at (gitignored). */
const ARTIFACTS = fileURLToPath(new URL('../artifacts', import.meta.url));
/** The console polls every 2 s and edges announce every 5 s: a change shows within ~7 s; slack for a busy machine. */
const SHOWN_WITHIN_MS = 20_000;
/** The stream's row in the console. */
const STREAM = '__defaultVhost__/live/console';
const row = (table: string, key: string) => `#${table} tbody tr[data-key="${key}"]`;

let origin: NginxOrigin;
let proxy: ProxyHandle;
let pub: Spawned | undefined;
let context: BrowserContext | undefined;
let profile: string;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-test-deps.sh (Debian package chromium)`);
  origin = await startNginxOrigin();
  proxy = await startProxy({ env: { PROXY_HTTP_API_AUTH_TOKEN: TOKEN } });
  assert.equal((await proxy.register(origin.heartbeatBody(), { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
  profile = mkdtempSync(join(tmpdir(), 'srsp-chromium-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await context?.close();
  await pub?.stop();
  await proxy?.stop();
  await origin?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** The browser's console errors and failed requests, reported by the test rather than lost. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

test('the console asks for the token, then shows the edges, the origin and a live ffmpeg stream, and updates when it stops', async () => {
  const page = context!.pages()[0] ?? (await context!.newPage());
  const errors = watchErrors(page);
  pub = publishClip(`rtmp://127.0.0.1:${proxy.ports.rtmp}/live/console`, { loops: 200 });

  await page.goto(`http://127.0.0.1:${proxy.ports.system}/console/`);
  await page.locator('#token-panel').waitFor({ state: 'visible', timeout: SHOWN_WITHIN_MS });
  assert.equal(await page.locator('#main').isHidden(), true, 'nothing of the cluster shows before the token');

  await page.fill('#token-input', 'wrong');
  await page.click('#token-form button[type="submit"]');
  await page.locator('#token-error').waitFor({ state: 'visible', timeout: SHOWN_WITHIN_MS });

  await page.fill('#token-input', TOKEN);
  await page.click('#token-form button[type="submit"]');
  const originId = `${origin.heartbeatBody().server}-${origin.heartbeatBody().service}-${origin.heartbeatBody().pid}`;
  await page.locator(row('origins', originId)).waitFor({ timeout: SHOWN_WITHIN_MS });
  assert.equal(await page.locator(`${row('origins', originId)} .pill`).textContent(), 'alive');

  await page.locator(`${row('streams', STREAM)} .pill`, { hasText: 'live' }).waitFor({ timeout: SHOWN_WITHIN_MS });
  const streamRow = await page.locator(row('streams', STREAM)).innerText();
  assert.match(streamRow, new RegExp(originId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.match(streamRow, /1 · rtmp/);
  // Expressions run in the page (the test's TypeScript has no DOM types).
  await page.waitForFunction("document.querySelectorAll('#edges tbody tr').length === 4", undefined, { timeout: SHOWN_WITHIN_MS });
  assert.equal(await page.locator('#sum-origins').textContent(), '1/1');

  // The stream's clients: the rtmp-edge's publisher.
  await page.click(row('streams', STREAM));
  await page.locator('#players-edges tbody tr', { hasText: 'rtmp-edge' }).waitFor({ timeout: SHOWN_WITHIN_MS });
  await page.click('#players-close');

  await page.screenshot({ path: join(ARTIFACTS, 'console-desktop.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator(row('streams', STREAM)).scrollIntoViewIfNeeded();
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  assert.ok(overflow <= 0, `the phone layout scrolls sideways by ${overflow}px`);
  await page.screenshot({ path: join(ARTIFACTS, 'console-phone.png'), fullPage: true });

  await pub.stop();
  pub = undefined;
  await page.locator(`${row('streams', STREAM)} .pill`, { hasText: 'idle' }).waitFor({ timeout: SHOWN_WITHIN_MS });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(ARTIFACTS, 'console-desktop-stopped.png'), fullPage: true });
  assert.deepEqual(errors.filter((e) => !/401/.test(e)), [], 'no script errors (the refused token is a 401 by design)');
});
