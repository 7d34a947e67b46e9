// End-to-end test of the real desktop app: the built binary (UI embedded) driven through
// tauri-driver and WebKitWebDriver under Xvfb, against a real, seeded tandem-server, with the
// `tandem` command as the team's other laptops.
//
//   TANDEM_DESKTOP_BIN=... TANDEM_SERVER_BIN=... TANDEM_CLI_BIN=... node --test e2e/
//
// Run it inside a D-Bus session with an unlocked keyring, under xvfb-run (scripts/test does).
// Screenshots of every main screen go to E2E_ARTIFACTS (default: ui/e2e/artifacts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { remote } from 'webdriverio';
import { appClosed, displayed, finished, freePort, listening, listeningUrl, processesOf, screenshot, until } from './lib.mjs';

assert.ok(process.env.TANDEM_DESKTOP_BIN && process.env.TANDEM_SERVER_BIN, 'set TANDEM_DESKTOP_BIN and TANDEM_SERVER_BIN');
const APP = resolve(process.env.TANDEM_DESKTOP_BIN);
const SERVER = process.env.TANDEM_SERVER_BIN;
// The `tandem` command, as the team's other laptops (optional: the tests of conflicts and
// duplicates need it).
const CLI = process.env.TANDEM_CLI_BIN;
const ARTIFACTS = resolve(process.env.E2E_ARTIFACTS ?? join(import.meta.dirname, 'artifacts'));

const scratch = mkdtempSync(join(tmpdir(), 'tandem-e2e-'));
const children = [];
let browser;
let server;
let serverUrl;

const el = (selector, timeout) => displayed(browser, selector, timeout);
const shot = (name) => screenshot(browser, ARTIFACTS, name);

function run(bin, args, env = {}) {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.stderr.on('data', (chunk) => process.stderr.write(`[${bin.split('/').pop()}] ${chunk}`));
  return child;
}

/** Runs the `tandem` command on the store of `laptop` and returns its standard output. */
async function tandem(args, { laptop = 'other-laptop', input = '' } = {}) {
  const child = spawn(CLI, ['--data-dir', join(scratch, laptop), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  child.stdin.end(input);
  await finished(child);
  assert.equal(child.exitCode, 0, `tandem ${args.join(' ')} on ${laptop} failed: ${err}`);
  return out;
}

/** `tandem --json ARGS` on `laptop`, parsed. */
async function tandemJson(args, laptop = 'other-laptop') {
  return JSON.parse(await tandem(['--json', ...args], { laptop }));
}

/** Signs the `tandem` store of `laptop` in as `username`, as a laptop of its own. */
function tandemLogin(laptop, username) {
  const args = ['login', '--server', serverUrl, '--username', username, '--password-stdin', '--device-name', laptop];
  return tandem(args, { laptop, input: 'demo-password\n' });
}

/** Starts tandem-server and resolves with its URL once it prints that it listens. */
function startServer(listen) {
  const child = run(SERVER, ['serve', '--listen', listen, '--data-dir', join(scratch, 'server')]);
  return listeningUrl(child).then((url) => ({ child, url }));
}

async function stopServer() {
  server.child.kill('SIGTERM');
  await finished(server.child);
}

async function pendingCount() {
  const bar = await el('[data-testid="pending-count"]');
  return Number(await bar.getAttribute('data-count'));
}

async function syncState() {
  return (await el('.sync-bar')).getAttribute('data-state');
}

/** Types a name into the drop-in search and presses Enter (logs a contact or registers). */
async function searchAndEnter(text) {
  const search = await el('#client-search');
  await search.setValue(text);
  await browser.waitUntil(async () => (await browser.$$('#search-results [role="option"]')).length > 0);
  await browser.keys('Enter');
}

async function logContact(topicIndex) {
  // The fields show once the form has read its sites and draft.
  await el('#contact-topics button');
  const chips = await browser.$$('#contact-topics button');
  await chips[topicIndex].click();
  await (await el('#contact-summary')).setValue('E2E contact');
  // Saved with the keyboard, as at the desk: Ctrl+Enter from the summary.
  await browser.keys(['Control', 'Enter']);
  await el('.notice.ok');
  await el('#client-search');
}

/** Starts tauri-driver for a laptop with its own data directory and opens the app on it. */
async function openApp(laptop) {
  const port = await freePort();
  const nativePort = await freePort();
  const driver = run('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], {
    TANDEM_DATA_DIR: join(scratch, laptop),
    TANDEM_PROVISIONING_FILE: join(scratch, 'no-provisioning.toml'),
  });
  await listening(port, driver);
  return remote({
    hostname: '127.0.0.1',
    port,
    logLevel: 'error',
    capabilities: {
      'tauri:options': { application: APP },
      'wdio:enforceWebDriverClassic': true,
    },
  });
}

/** Opens the app on `laptop`, where a user signed in before, and unlocks it. */
async function openAndUnlock(laptop) {
  browser = await openApp(laptop);
  await (await el('#signin-password', 30000)).setValue('demo-password');
  await (await el('form button[type="submit"]')).click();
}

/**
 * Closes the app's window as its close button does (a window manager's request), waits until
 * the app has ended, and opens it again on `laptop`, unlocked; `what` says what was typed.
 */
async function closeAndReopen(laptop, what) {
  const [pid] = processesOf(APP);
  assert.ok(pid, 'the app does not run');
  const script = join(import.meta.dirname, 'close-window.py');
  const asking = run('python3', [script, String(pid)]);
  await finished(asking);
  assert.equal(asking.exitCode, 0, 'the close request was not sent');
  await appClosed(APP, `the app did not close with ${what}`);
  await browser.deleteSession().catch(() => {});
  await openAndUnlock(laptop);
}

/**
 * Signs the open app in (online, the first time on its laptop) and waits for the first sync;
 * `screenshotName` names a screenshot of the filled-in form.
 */
async function signIn(username, screenshotName = null) {
  const serverInput = await el('#signin-server', 30000);
  await serverInput.setValue(serverUrl);
  await (await el('#signin-username')).setValue(username);
  await (await el('#signin-password')).setValue('demo-password');
  if (screenshotName) await shot(screenshotName);
  await (await el('form button[type="submit"]')).click();
  await el('#client-search', 30000);
  await browser.waitUntil(async () => (await (await el('.sync-last')).getAttribute('data-last-sync')) !== '', {
    timeout: 30000,
    timeoutMsg: 'the first sync did not finish',
  });
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const seed = run(SERVER, ['seed-demo', '--clients', '40', '--data-dir', join(scratch, 'server')]);
  await finished(seed);
  assert.equal(seed.exitCode, 0, 'seed-demo failed');
  server = await startServer('127.0.0.1:0');
  serverUrl = server.url;

  browser = await openApp('laptop');
});

after(async () => {
  await browser?.deleteSession().catch(() => {});
  for (const child of children.reverse()) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
  await Promise.all(children.map(finished));
});

test('a coach signs in, works offline, and the app syncs by itself when the server is back', async () => {
  const startedOn = new Date().toDateString();
  // Sign in (online, the first time on this laptop); the first sync pulls the team's records.
  await signIn('coach1', '01-sign-in');
  assert.equal(await pendingCount(), 0);
  // The recent clients (from the pulled contacts) appear on the next visit of Today.
  await (await el('[data-nav="follow_ups"]')).click();
  await (await el('[data-nav="today"]')).click();
  await el('.recent .card');
  await shot('02-today');

  // The server goes away; a manual sync says offline.
  await stopServer();
  await (await el('.sync-bar > button:last-child')).click();
  await browser.waitUntil(async () => (await syncState()) === 'offline', { timeout: 20000 });
  // And when it tries again (between the retries; hidden while one runs).
  await browser.waitUntil(
    async () => /^Uusi yritys /.test(await browser.$('[data-testid="next-attempt"]').getText().catch(() => '')),
    { timeout: 20000, timeoutMsg: 'the sync bar did not say when it tries again' },
  );

  // Register a client and log two contacts, offline.
  await searchAndEnter('Zainab Testinen');
  await el('#register-heading');
  await shot('03-register');
  await (await el('form.panel button[type="submit"]')).click();
  await el('#contact-heading');
  // Date fields show the interface language's order (Finnish: 6.12.2026), not the system's:
  // this test's system language is C, whose US order reads 6 December as 12/06/2026.
  assert.equal(await browser.execute(() => navigator.language), 'fi-FI');
  // The site starts at the one coach1 logged their last contact at (the demo's are named).
  const site = await el('#contact-site');
  assert.notEqual(await site.getValue(), '');
  assert.match(await browser.execute((s) => s.selectedOptions[0].text, site), /\S/);
  await shot('04-contact-form');
  await logContact(0);
  await searchAndEnter('Zainab');
  await el('#contact-heading');
  await logContact(3);
  await browser.waitUntil(async () => (await pendingCount()) > 0, { timeout: 10000 });
  const pending = await pendingCount();
  assert.ok(pending >= 4, `expected the new client and both contacts to wait, got ${pending}`);
  await shot('05-today-offline');

  // Every waiting change is listed, under the coach who made it.
  await (await el('[data-nav="unsynced"]')).click();
  await el('#pending-heading');
  const rows = await browser.$$('section[aria-labelledby="pending-heading"] tbody tr[data-change]');
  assert.equal(rows.length, pending);
  const coaches = await browser.$$('section[aria-labelledby="pending-heading"] th[scope="rowgroup"]');
  assert.equal(coaches.length, 1);
  assert.match(await coaches[0].getText(), new RegExp(`coach1 \\(${pending}\\)`));
  // Values are shown as a person reads them: a contact's client and coach by name, no ids.
  const waiting = await (await el('section[aria-labelledby="pending-heading"] table')).getText();
  assert.doesNotMatch(waiting, /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/);
  await shot('06-unsynced');

  // The client's profile shows both contacts.
  await (await el('[data-nav="today"]')).click();
  await searchAndEnter('Zainab');
  await (await el('form.contact-form button.link')).click();
  await el('.timeline');
  assert.equal((await browser.$$('.timeline li')).length, 2);
  // Each contact says whose it is, by name.
  assert.match(await (await el('.timeline')).getText(), /Valmentaja coach1/);
  await shot('07-client-profile');

  // A contact is corrected from the timeline (the newest first) ...
  await (await el('.timeline li:first-child button.edit-contact')).click();
  assert.match(await (await el('#contact-heading')).getText(), /^Korjaa käynti: Zainab/);
  assert.equal(await (await el('#contact-summary')).getValue(), 'E2E contact');
  await (await el('#contact-summary')).setValue('Vuokrasopimus käyty läpi.');
  await (await el('#contact-duration')).setValue('45');
  await shot('17-contact-corrected');
  await (await el('form.contact-form button[type="submit"]')).click();
  await browser.waitUntil(async () => (await (await el('.timeline')).getText()).includes('Vuokrasopimus käyty läpi.'), {
    timeout: 10000,
    timeoutMsg: 'the corrected summary is not on the timeline',
  });
  // ... and one logged by mistake is deleted, after a question; Undo brings it back ...
  const timelineHas = (count, timeoutMsg) =>
    browser.waitUntil(async () => (await browser.$$('.timeline li')).length === count, { timeout: 10000, timeoutMsg });
  const deleteLast = async () => {
    await (await el('.timeline li:last-child button.edit-contact')).click();
    await (await el('form.contact-form button.delete')).click();
    await (await el('.delete-confirm button.danger')).click();
    await timelineHas(1, 'the deleted contact is still on the timeline');
    assert.match(await (await el('.notice.ok')).getText(), /Käynti poistettu/);
  };
  await deleteLast();
  await (await el('.notice.ok button[data-action="undo"]')).click();
  await timelineHas(2, 'Undo did not bring the deleted contact back');
  assert.match(await (await el('.notice.ok')).getText(), /Käynti palautettu/);
  // ... and deleted again, it waits among the client's deleted contacts, to be restored.
  await deleteLast();
  await (await el('details.deleted-contacts summary')).click();
  assert.equal((await browser.$$('.deleted-list li')).length, 1);
  assert.match(await (await el('.deleted-list')).getText(), /Palauta/);
  await shot('18-deleted-contacts');

  // The coach's day on Today lists what they logged: an anonymous visit (listed nowhere
  // else) is corrected from there, and the contact deleted above comes back with Restore.
  // The day is this machine's calendar day: a run that crossed midnight since its first
  // contacts (or is about to) reads the last 7 days from the start, which hold them either way.
  const now = new Date();
  const weekFirst = now.toDateString() !== startedOn || now.getHours() * 60 + now.getMinutes() >= 23 * 60 + 55;
  const showWeek = async () => {
    if (/Viimeisen 7 päivän/.test(await (await el('#logged-heading')).getText())) return;
    await (await el('.logged-heading button')).click();
    await browser.waitUntil(async () => /Viimeisen 7 päivän/.test(await (await el('#logged-heading')).getText()), {
      timeout: 10000,
      timeoutMsg: 'the list did not turn to the last 7 days',
    });
  };
  await (await el('[data-nav="today"]')).click();
  await (await el('button.anonymous')).click();
  await el('#contact-heading');
  await logContact(1);
  if (weekFirst) await showWeek();
  const loggedRow = async (text, deleted) => {
    for (const row of await browser.$$(`.logged li${deleted ? '.deleted' : ':not(.deleted)'}`)) {
      if ((await row.getText()).includes(text)) return row;
    }
    return null;
  };
  await browser.waitUntil(async () => (await loggedRow('Anonyymi kävijä', false)) !== null, {
    timeout: 10000,
    timeoutMsg: 'the anonymous visit is not among the coach\'s contacts of the day',
  });
  assert.ok(await loggedRow('Zainab Testinen', true), 'the deleted contact is not offered back on Today');
  await (await el('.logged')).scrollIntoView({ block: 'end' });
  await shot('21-contacts-today');
  await (await (await loggedRow('Anonyymi kävijä', false)).$('button')).click();
  // The fields show once the contact is read: the heading names it by then.
  await el('#contact-summary');
  assert.match(await (await el('#contact-heading')).getText(), /^Korjaa anonyymi käynti/);
  await (await el('#contact-summary')).setValue('Kysyi kielikursseista.');
  await (await el('form.contact-form button[type="submit"]')).click();
  assert.match(await (await el('.notice.ok')).getText(), /Käynti päivitetty/);
  // Zainab's two contacts of the day: one as it is, one deleted (the list reads after the
  // screen shows).
  const zainabRows = async (deleted) => {
    let count = 0;
    for (const row of await browser.$$(`.logged li${deleted ? '.deleted' : ':not(.deleted)'}`)) {
      if ((await row.getText()).includes('Zainab Testinen')) count += 1;
    }
    return count;
  };
  const listed = (live, deleted, timeoutMsg) =>
    browser.waitUntil(async () => (await zainabRows(false)) === live && (await zainabRows(true)) === deleted, {
      timeout: 10000,
      timeoutMsg,
    });
  await listed(1, 1, 'the corrected visit\'s list does not show Zainab\'s two contacts');
  await (await (await loggedRow('Zainab Testinen', true)).$('button.restore')).click();
  await listed(2, 0, 'Restore on Today did not bring the deleted contact back');
  assert.match(await (await el('.notice.ok')).getText(), /Käynti palautettu/);

  // The week's contacts on request, the restored one among them.
  await showWeek();
  await listed(2, 0, 'the week does not list both of Zainab\'s contacts, undeleted');

  // Each group counts its open follow-ups (the demo team has fewer than the 100 listed).
  await (await el('[data-nav="follow_ups"]')).click();
  for (const group of ['overdue', 'today', 'this_week']) {
    const heading = await (await el(`[data-group="${group}"] h2`)).getText();
    const listed = (await browser.$$(`[data-group="${group}"] li`)).length;
    assert.match(heading, new RegExp(`\\(${listed}\\)$`));
  }
  // The whole team's follow-ups name their coaches (the team's users came with the first
  // sync): the demo's contacts are coach1's and coach2's.
  const followUps = await (await el('.follow-ups')).getText();
  assert.match(followUps, /Valmentaja coach2/);
  assert.doesNotMatch(followUps, /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/);
  await shot('08-follow-ups');
  await (await el('[data-nav="settings"]')).click();
  await el('#settings-language');
  await shot('09-settings');
  // Another interface language changes the date fields' order with it, at once.
  for (const [language, locale] of [['en', 'en-GB'], ['fi', 'fi-FI']]) {
    await (await el('#settings-language')).selectByAttribute('value', language);
    await browser.waitUntil(async () => (await browser.execute(() => navigator.language)) === locale,
      { timeout: 5000, timeoutMsg: `the web view does not format for ${locale}` });
  }

  // The server comes back on the same address: the app notices and syncs by itself.
  server = await startServer(serverUrl.replace('http://', ''));
  await browser.waitUntil(async () => (await pendingCount()) === 0, {
    timeout: 60000,
    interval: 500,
    timeoutMsg: 'the app did not sync the offline work by itself',
  });
  assert.equal(await syncState(), 'online');
  await shot('10-synced');
});

test('a concurrent edit made with the CLI on another laptop appears as a conflict', { skip: !CLI }, async () => {
  // Another laptop signs in and gets the client registered offline above.
  await tandemLogin('other-laptop', 'coach2');
  await tandem(['sync']);
  const [client] = await tandemJson(['client', 'search', 'Zainab']);
  assert.ok(client?.id, 'the other laptop did not receive the client');

  // This laptop edits the phone number (it syncs about ten seconds after a save) ...
  await (await el('[data-nav="today"]')).click();
  await searchAndEnter('Zainab');
  await (await el('form.contact-form button.link')).click();
  await (await el('.client-profile .title-row .secondary')).click();
  // A mistyped number is refused next to its field, in the app's language.
  await (await el('#client-phone')).setValue('040 12');
  await (await el('form.client-form button[type="submit"]')).click();
  assert.equal(
    await (await el('#client-phone-error')).getText(),
    'Nollalla alkavassa suomalaisessa numerossa on 6–12 numeroa.',
  );
  await (await el('#client-phone')).setValue('040 111 2222');
  await (await el('form.client-form button[type="submit"]')).click();
  await el('dd[data-field="phone"]');

  // ... while the other laptop changes the same field and reaches the server first.
  await tandem(['client', 'edit', client.id, '--phone', '040 999 8888']);
  await tandem(['sync']);

  await browser.waitUntil(async () => (await browser.$$('.sync-bar button.link')).length > 0, {
    timeout: 60000,
    interval: 500,
    timeoutMsg: 'no conflict was reported in the status bar',
  });
  await (await el('.sync-bar button.link')).click();
  const conflict = await el('article.conflict');
  assert.match(await conflict.getText(), /Zainab Testinen/);
  await shot('11-conflict');
});

test('a change the server refuses is explained in the app’s language, the server’s words below it', { skip: !CLI }, async () => {
  // coach2's laptop records the client's lawful basis, and this laptop syncs it in.
  const [client] = await tandemJson(['client', 'search', 'Zainab']);
  await tandem(['client', 'edit', client.id, '--lawful-basis', 'public_task']);
  await tandem(['sync']);
  const last = await (await el('.sync-last')).getAttribute('data-last-sync');
  await (await el('.sync-bar > button:last-child')).click();
  await browser.waitUntil(async () => (await (await el('.sync-last')).getAttribute('data-last-sync')) !== last, {
    timeout: 30000,
    timeoutMsg: 'Sync now did not finish',
  });
  // coach2 clears the basis again. This laptop does not sync before its next save (the
  // schedule's next cycle is five minutes after the one just run), so its form still offers
  // special-category data, which the server refuses when the save is sent.
  await tandem(['client', 'edit', client.id, '--clear', 'lawful_basis']);
  await tandem(['sync']);
  await (await el('[data-nav="today"]')).click();
  await searchAndEnter('Zainab');
  await (await el('form.contact-form button.link')).click();
  await (await el('.client-profile .title-row .secondary')).click();
  const disability = await el('#client-disability');
  assert.ok(await disability.isEnabled(), 'the form should allow special-category data: the basis stands here');
  await disability.selectByAttribute('value', 'no');
  await (await el('form.client-form button[type="submit"]')).click();
  await el('dd[data-field="disability"]');

  // The sync ten seconds after the save is refused for that field; the bar counts it.
  await browser.waitUntil(async () => /(^|\s)1 hylätty(?!ä)/.test(await (await el('.sync-bar')).getText()), {
    timeout: 60000,
    interval: 500,
    timeoutMsg: 'the refused change was not counted in the status bar',
  });
  await (await el('[data-nav="unsynced"]')).click();
  const row = await el('section[aria-labelledby="rejected-heading"] tr[data-change]');
  const reason = await row.$('td.reason');
  // What happened and what to do, in Finnish; the server's words (English) below, for IT.
  assert.match(await reason.getText(), /^Tämä on erityiseen henkilötietoryhmään kuuluva tieto/);
  assert.match(await (await reason.$('small')).getText(), /^Palvelimen viesti: disability: special-category data/);
  await row.scrollIntoView({ block: 'center' });
  await shot('16-refused');
});

test('a team lead resolves the conflict in the app and the other laptop receives the value', { skip: !CLI }, async () => {
  // The coach's app closes; the team lead opens the app on a laptop of their own.
  await browser.deleteSession();
  await appClosed(APP, 'the coach\'s app did not close');
  browser = await openApp('lead-laptop');
  await signIn('lead1');

  // The review queue lists the team's open conflict field by field, and the team's laptops.
  await (await el('[data-nav="unsynced"]')).click();
  const card = await el('article.conflict[data-status="open"]');
  assert.match(await card.getText(), /Zainab Testinen/);
  assert.match(await card.getText(), /\+358401112222/);
  assert.match(await card.getText(), /\+358409998888/);
  await el('section[aria-labelledby="devices-heading"] tbody tr');
  // The values' authors are named from the team's laptops.
  await browser.waitUntil(async () => /coach1/.test(await card.getText()) && /coach2/.test(await card.getText()), {
    timeout: 15000,
    timeoutMsg: 'the authors of the values were not named',
  });
  const laptops = await browser.$$('section[aria-labelledby="devices-heading"] tbody tr');
  assert.ok(laptops.length >= 3, `expected the three laptops, got ${laptops.length}`);
  await shot('12-review');

  // The lead writes another value.
  await (await card.$('button[data-action="write"]')).click();
  await (await el('.write-other #client-phone')).setValue('040 555 6666');
  await (await el('.write-other button[type="submit"]')).click();
  await el('.notice.ok');
  await browser.waitUntil(async () => (await browser.$$('article.conflict[data-status="open"]')).length === 0, {
    timeout: 15000,
    timeoutMsg: 'the conflict stayed open after the resolution',
  });
  const resolved = await el('article.conflict[data-status="resolved"]');
  assert.match(await resolved.getText(), /\+358405556666/);
  await resolved.scrollIntoView();
  await shot('13-resolved');

  // The other laptop receives the resolution with its next sync, and its conflict is closed.
  await tandem(['sync']);
  const [client] = await tandemJson(['client', 'search', 'Zainab']);
  const shown = await tandemJson(['client', 'show', client.id]);
  assert.equal(shown.phone, '+358405556666');
  assert.deepEqual(await tandemJson(['conflicts', 'list']), []);
});

test('a team lead merges a client two coaches registered in the app and the other laptop receives the merge', { skip: !CLI }, async () => {
  // Two coaches register the same person offline on their own laptops: coach2 in Cyrillic
  // with two contacts, coach1 in Latin letters with one; both sync.
  const register = async (laptop, given, family, contacts) => {
    const { id } = await tandemJson(['client', 'add', '--given-name', given, '--family-name', family, '--birth-year', '1972'], laptop);
    for (let i = 0; i < contacts; i++) await tandem(['contact', 'add', '--client', id, '--topic', 'housing'], { laptop });
    await tandem(['sync'], { laptop });
    return id;
  };
  await tandemLogin('third-laptop', 'coach1');
  const duplicate = await register('other-laptop', 'Ольга', 'Иванова', 2);
  const survivor = await register('third-laptop', 'Olga', 'Ivanova', 1);

  // The team lead's review screen proposes the pair (opened afresh, it asks the server).
  await (await el('[data-nav="today"]')).click();
  await (await el('[data-nav="unsynced"]')).click();
  const pair = await el(`article.duplicate-pair[data-pair*="${duplicate}"][data-pair*="${survivor}"]`);
  assert.match(await pair.getText(), /Ольга/);
  assert.match(await pair.getText(), /Olga/);
  await pair.scrollIntoView({ block: 'center' });
  await shot('14-duplicates');

  // The lead keeps the Latin registration: the button of the side it stands on.
  const keep = (await pair.getAttribute('data-pair')).split(' ')[0] === survivor ? 'first' : 'second';
  await (await pair.$(`button[data-merge-keep="${keep}"]`)).click();
  const merge = await el('section[data-duplicates] li[data-merge]');
  // "Ольга Иванова merged into Olga Ivanova, 2 contacts moved" in the app's language.
  assert.match(await merge.getText(), /Ольга Иванова .*Olga Ivanova, 2 /);
  assert.equal((await browser.$$(`article.duplicate-pair[data-pair*="${duplicate}"]`)).length, 0);
  await merge.scrollIntoView();
  await shot('15-merged');

  // coach2's laptop receives the merge with its next sync: its registration points to the
  // one kept, which has all three contacts, and only the one kept is listed.
  await tandem(['sync']);
  const merged = await tandemJson(['client', 'show', duplicate]);
  assert.equal(merged.merged_into, survivor);
  const kept = await tandemJson(['client', 'show', survivor]);
  assert.equal(kept.contacts.length, 3);
  const listed = (await tandemJson(['client', 'list'])).map((client) => client.id);
  assert.ok(listed.includes(survivor) && !listed.includes(duplicate), 'the merged registration is still listed');
});

test('a contact being typed when the app locks and closes is back after unlocking', { skip: !CLI }, async () => {
  // The team lead starts logging a contact, and is called away: the app locks, then closes.
  await (await el('[data-nav="today"]')).click();
  await searchAndEnter('Olga');
  await el('#contact-heading');
  await (await el('#contact-summary')).setValue('Kesken jäänyt käynti');
  await (await el('header.top button[data-action="lock"]')).click();
  await el('#signin-password');
  await browser.deleteSession();
  await appClosed(APP, 'the team lead\'s app did not close');

  // Opened again and unlocked, the app is back at the form with what was typed, not saved.
  await openAndUnlock('lead-laptop');
  await el('#contact-heading');
  assert.match(await (await el('#contact-heading')).getText(), /Olga Ivanova/);
  assert.equal(await (await el('#contact-summary')).getValue(), 'Kesken jäänyt käynti');
  assert.match(await (await el('form.contact-form .notice.info')).getText(), /kirjoittamasi tiedot ovat taas tässä/);
  await shot('19-draft-restored');
  await (await el('form.contact-form button[type="submit"]')).click();
  await el('#client-search');
  assert.match(await (await el('.notice.ok')).getText(), /Olga Ivanova/);
});

test('closing the window keeps what a form holds: it is back after unlocking', { skip: !CLI }, async () => {
  // The team lead starts correcting a client's phone number and closes the window: the app
  // keeps the change and closes without asking.
  await searchAndEnter('Olga');
  await (await el('form.contact-form button.link')).click();
  await (await el('.client-profile .title-row .secondary')).click();
  await (await el('#client-phone')).setValue('040 777 1234');
  // Opened again and unlocked: the edit form is back with the change, not saved yet.
  await closeAndReopen('lead-laptop', 'a client edit typed');
  await el('form.client-form');
  assert.equal(await (await el('#client-phone')).getValue(), '040 777 1234');
  assert.match(await (await el('form.client-form .notice.info')).getText(), /kirjoittamasi tiedot ovat taas tässä/);
  await shot('20-edit-given-back');
  // Left on purpose, after the question, it is gone for good.
  await (await el('form.client-form button.secondary')).click();
  await (await el('.discard-confirm button.danger')).click();
  assert.doesNotMatch(await (await el('.client-profile')).getText(), /040 777 1234/);

  // A new contact typed and the window closed: the same.
  await (await el('[data-nav="today"]')).click();
  await searchAndEnter('Olga');
  await el('#contact-heading');
  await (await el('#contact-summary')).setValue('Suljettu kesken');
  await closeAndReopen('lead-laptop', 'a new contact typed');
  await el('#contact-heading');
  assert.equal(await (await el('#contact-summary')).getValue(), 'Suljettu kesken');
  await (await el('form.contact-form button[type="submit"]')).click();
  await el('#client-search');
  assert.match(await (await el('.notice.ok')).getText(), /Olga Ivanova/);
});
