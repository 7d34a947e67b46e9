// The installed desktop app, driven through a tauri-driver that runs inside the Debian root
// the package was installed into (scripts/lib/package-test.sh starts it and runs this twice).
//
//   WEBDRIVER_PORT=4444 SERVER_URL=http://127.0.0.1:8080 PHASE=install|upgrade node ui/e2e/installed-app.mjs
//
// install: the app starts on the server of the provisioning file (shown read-only), a coach
//   signs in and registers a client, which syncs.
// upgrade: after the newer package was installed over it, with the server stopped, the app
//   unlocks offline and the client is still in its store.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { remote } from 'webdriverio';
import { displayed, screenshot } from './lib.mjs';

const PORT = Number(process.env.WEBDRIVER_PORT);
const SERVER_URL = process.env.SERVER_URL;
const PHASE = process.env.PHASE;
const ARTIFACTS = resolve(process.env.E2E_ARTIFACTS ?? join(import.meta.dirname, 'artifacts'));
const CLIENT = 'Paketti Asennettu';
assert.ok(PORT && SERVER_URL && ['install', 'upgrade'].includes(PHASE), 'set WEBDRIVER_PORT, SERVER_URL, PHASE');
mkdirSync(ARTIFACTS, { recursive: true });

const browser = await remote({
  hostname: '127.0.0.1',
  port: PORT,
  logLevel: 'error',
  capabilities: {
    'tauri:options': { application: '/usr/bin/tandem-desktop' },
    'wdio:enforceWebDriverClassic': true,
  },
});
const el = (selector, timeout) => displayed(browser, selector, timeout);

async function findClient() {
  const search = await el('#client-search');
  await search.setValue(CLIENT.split(' ')[0]);
  await browser.waitUntil(
    async () => (await (await el('#search-results')).getText()).includes(CLIENT),
    { timeout: 15000, timeoutMsg: `${CLIENT} is not in the app's store` },
  );
}

try {
  if (PHASE === 'install') {
    const server = await el('#signin-server', 60000);
    assert.equal(await server.getValue(), SERVER_URL, 'the app does not show the provisioned server');
    assert.notEqual(await server.getAttribute('readonly'), null, 'a provisioned server must not be editable');
    await screenshot(browser, ARTIFACTS, 'installed-01-sign-in');
    await (await el('#signin-username')).setValue('coach1');
    await (await el('#signin-password')).setValue('demo-password');
    await (await el('form button[type="submit"]')).click();
    await el('#client-search', 30000);

    const search = await el('#client-search');
    await search.setValue(CLIENT);
    await browser.waitUntil(async () => (await browser.$$('#search-results [role="option"]')).length > 0);
    await browser.keys('Enter');
    await el('#register-heading');
    await (await el('form.panel button[type="submit"]')).click();
    await el('#contact-heading');
    // The new client reaches the provisioned server (a sync follows every save).
    await browser.waitUntil(
      async () => Number(await (await el('[data-testid="pending-count"]')).getAttribute('data-count')) === 0,
      { timeout: 30000, timeoutMsg: 'the new client did not sync to the provisioned server' },
    );
    await screenshot(browser, ARTIFACTS, 'installed-02-registered');
  } else {
    // Signed in before the upgrade: only the password is asked for, and it works offline.
    assert.equal(await browser.$('#signin-server').isExisting(), false, 'the upgrade lost the sign-in');
    await (await el('#signin-password', 60000)).setValue('demo-password');
    await (await el('form button[type="submit"]')).click();
    await findClient();
    await screenshot(browser, ARTIFACTS, 'installed-03-after-upgrade');
  }
} finally {
  await browser.deleteSession().catch(() => {});
}
