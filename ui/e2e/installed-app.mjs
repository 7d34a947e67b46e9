// The installed desktop app, driven through a tauri-driver that runs inside the Debian root
// the package was installed into (scripts/lib/package-test.sh starts it and runs this twice).
//
//   WEBDRIVER_PORT=4444 SERVER_URL=http://127.0.0.1:8080 PHASE=install|update|upgrade \
//     UPDATE_VERSION=0.1.1 [APP_BIN=/usr/bin/tandem-desktop] node ui/e2e/installed-app.mjs
//
// install: the app starts on the server of the provisioning file (shown read-only), a coach
//   signs in, the provisioned update endpoint's offer is shown, and the coach registers a
//   client, which syncs.
// update: the coach unlocks; the app offers UPDATE_VERSION from the provisioned update
//   endpoint; "Install and restart" installs it and the app's process ends (the new version
//   starts in its place). package-test.sh then checks the installed package's version.
// upgrade: after the update, with the server stopped, the app unlocks offline and the client
//   is still in its store.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { remote } from 'webdriverio';
import { displayed, screenshot } from './lib.mjs';

const PORT = Number(process.env.WEBDRIVER_PORT);
const SERVER_URL = process.env.SERVER_URL;
const PHASE = process.env.PHASE;
const UPDATE_VERSION = process.env.UPDATE_VERSION;
const ARTIFACTS = resolve(process.env.E2E_ARTIFACTS ?? join(import.meta.dirname, 'artifacts'));
const CLIENT = 'Paketti Asennettu';
assert.ok(PORT && SERVER_URL && ['install', 'update', 'upgrade'].includes(PHASE), 'set WEBDRIVER_PORT, SERVER_URL, PHASE');
assert.ok(PHASE !== 'update' || UPDATE_VERSION, 'set UPDATE_VERSION for the update phase');
mkdirSync(ARTIFACTS, { recursive: true });

const browser = await remote({
  hostname: '127.0.0.1',
  port: PORT,
  logLevel: 'error',
  capabilities: {
    'tauri:options': { application: process.env.APP_BIN ?? '/usr/bin/tandem-desktop' },
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
    // The endpoint offers UPDATE_VERSION from the start: its notice shows (above the sync bar,
    // moving nothing on the screen) once the app's first check is done.
    await el('[data-testid="update-notice"]', 60000);

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
  } else if (PHASE === 'update') {
    await (await el('#signin-password', 60000)).setValue('demo-password');
    await (await el('form button[type="submit"]')).click();
    const notice = await el('[data-testid="update-notice"]', 60000);
    assert.match(await notice.getText(), new RegExp(UPDATE_VERSION.replaceAll('.', '\\.')),
      'the update notice does not name the offered version');
    await screenshot(browser, ARTIFACTS, 'installed-03-update-offered');
    await (await notice.$('button')).click();
    // Installing ends this process (the updated app starts in its place): the session's
    // window goes away. An error shown instead is the failure.
    await browser.waitUntil(async () => {
      try {
        const failed = await browser.$('[data-testid="update-notice"] .notice.error');
        if (await failed.isExisting()) throw new Error(`the update failed: ${await failed.getText()}`);
        await browser.getTitle();
        return false;
      } catch (error) {
        if (String(error.message).startsWith('the update failed')) throw error;
        return true;
      }
    }, { timeout: 180000, interval: 500, timeoutMsg: 'the app was still running 3 minutes after Install and restart' });
  } else {
    // Signed in before the upgrade: only the password is asked for, and it works offline.
    assert.equal(await browser.$('#signin-server').isExisting(), false, 'the upgrade lost the sign-in');
    await (await el('#signin-password', 60000)).setValue('demo-password');
    await (await el('form button[type="submit"]')).click();
    await findClient();
    await screenshot(browser, ARTIFACTS, 'installed-04-after-update');
  }
} catch (error) {
  // What the window showed when the check failed, if the app is still there to ask. The
  // session stays open: ending it would end the app, and package-test.sh lists what is still
  // running in the root (then stops it all).
  await screenshot(browser, ARTIFACTS, `installed-failed-${PHASE}`).catch((reason) =>
    console.error(`no screenshot of the failure: ${reason.message}`));
  // An error's details (its technical message) are folded away: opened, they are in the text.
  const shown = () => {
    document.querySelectorAll('details').forEach((details) => { details.open = true; });
    return document.body.innerText;
  };
  console.error(`the app's window at the failure: ${await browser.execute(shown)
    .then((text) => `it showed:\n${text.slice(0, 3000)}`, (reason) => `gone (${reason.message})`)}`);
  throw error;
}
await browser.deleteSession().catch(() => {});
