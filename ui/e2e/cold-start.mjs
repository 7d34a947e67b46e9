// Cold start of the desktop app and its memory use (docs/benchmarks.md): the built binary,
// driven through tauri-driver and WebKitWebDriver under Xvfb like app.test.mjs, started
// COLD_START_RUNS times (default 5), each time on a fresh data directory with a provisioning
// file, as a laptop's first start. Prints `FIGURE` lines for scripts/lib/bench_report.py.
//
//   TANDEM_DESKTOP_BIN=... [TANDEM_SERVER_BIN=...] xvfb-run -a scripts/with-keyring node ui/e2e/cold-start.mjs
//
// Per run: the time from just before the WebDriver session is created (which launches the
// app) until the session is ready (the app's window and web view exist: the baseline), and
// until the first usable screen (the sign-in form's username input, enabled); then, after
// COLD_START_SETTLE_MS (default 1000), the summed RSS and PSS of the app and every
// descendant process (WebKitWebProcess, WebKitNetworkProcess, their sandbox helpers).
// With TANDEM_SERVER_BIN set, it then measures a signed-in laptop (`signedInStarts`): the
// app signed in once to a tandem-server seeded with COLD_START_CLIENTS (default 20,000) demo
// clients and synced, then started COLD_START_SIGNED_IN_RUNS times (default COLD_START_RUNS)
// on that data directory: to the unlock form, from the unlock to the Today screen with its
// recent clients, and the memory after it.
// It asserts nothing about time: a run fails only when a screen never appears.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { remote } from 'webdriverio';
import { appClosed, finished, freePort, listening, listeningUrl, processesOf, sleep, until } from './lib.mjs';

const APP = resolve(process.env.TANDEM_DESKTOP_BIN ?? '');
const RUNS = Number(process.env.COLD_START_RUNS ?? 5);
const SETTLE_MS = Number(process.env.COLD_START_SETTLE_MS ?? 1000);
const FIRST_SCREEN = '#signin-username, #client-search';
const SERVER = process.env.TANDEM_SERVER_BIN;
const SIGNED_IN_CLIENTS = Number(process.env.COLD_START_CLIENTS ?? 20000);
const SIGNED_IN_RUNS = Number(process.env.COLD_START_SIGNED_IN_RUNS ?? RUNS);
// tandem-server's seed-demo password (crates/tandem-server/src/seed.rs).
const DEMO_PASSWORD = 'demo-password';
assert.ok(process.env.TANDEM_DESKTOP_BIN, 'set TANDEM_DESKTOP_BIN');

/** pid → parent pid of every process. */
function processTree() {
  const parents = new Map();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      // The name in field 2 may contain spaces and parentheses: the ppid follows the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  return parents;
}

/** The app's pid and its descendants' pids. */
function appProcesses() {
  const parents = processTree();
  const found = processesOf(APP);
  assert.equal(found.length, 1, `expected one ${APP} process, found ${found.length}`);
  const tree = new Set(found);
  for (let grown = true; grown; ) {
    grown = false;
    for (const [pid, parent] of parents) {
      if (tree.has(parent) && !tree.has(pid)) {
        tree.add(pid);
        grown = true;
      }
    }
  }
  return [...tree];
}

/** kB of a `Key:   123 kB` line of a /proc file, 0 when unreadable (a kernel thread, gone). */
function kilobytes(path, key) {
  try {
    const match = readFileSync(path, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function memory() {
  const processes = appProcesses().map((pid) => ({
    name: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(),
    rss: kilobytes(`/proc/${pid}/status`, 'VmRSS'),
    pss: kilobytes(`/proc/${pid}/smaps_rollup`, 'Pss'),
  }));
  const sum = (key) => processes.reduce((total, process) => total + process[key], 0);
  return { processes, rss: sum('rss'), pss: sum('pss') };
}

/** Starts tauri-driver on `dataDir` and the app through it; resolves when the session is ready. */
async function launch(dataDir, provisioning) {
  const port = await freePort();
  const driver = spawn('tauri-driver', ['--port', String(port), '--native-port', String(await freePort())], {
    env: { ...process.env, TANDEM_DATA_DIR: dataDir, TANDEM_PROVISIONING_FILE: provisioning },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  driver.stderr.on('data', (chunk) => process.stderr.write(`[tauri-driver] ${chunk}`));
  const app = { driver, browser: null, started: 0, sessionReady: 0 };
  try {
    await listening(port, driver);
    app.started = performance.now();
    app.browser = await remote({
      hostname: '127.0.0.1',
      port,
      logLevel: 'error',
      capabilities: { 'tauri:options': { application: APP }, 'wdio:enforceWebDriverClassic': true },
    });
    app.sessionReady = performance.now() - app.started;
    return app;
  } catch (error) {
    await close(app);
    throw error;
  }
}

/** Closes the app and its tauri-driver, and waits until the app's process is gone. */
async function close({ driver, browser }) {
  await browser?.deleteSession().catch(() => {});
  try {
    await appClosed(APP);
  } finally {
    driver.kill('SIGTERM');
    await finished(driver);
  }
}

/** Waits until the page has an enabled, laid-out element `selector`, polled with one script. */
function usable(browser, selector, what, timeout = 60000) {
  const present = () =>
    browser.execute((s) => {
      const element = document.querySelector(s);
      return element !== null && !element.disabled && element.getClientRects().length > 0;
    }, selector);
  return until(present, `${what} did not appear within ${timeout / 1000} s`, timeout, 10);
}

/** The memory of the app's processes now, as a line of the log and the sums. */
function measuredMemory(label) {
  const { processes, rss, pss } = memory();
  const each = processes.map((p) => `${p.name} ${mib(p.rss)} / ${mib(p.pss)}`).join(', ');
  console.error(`${label}, RSS ${mib(rss)}, PSS ${mib(pss)} (RSS / PSS: ${each})`);
  return { rss, pss };
}

async function coldStart(run) {
  const scratch = mkdtempSync(join(tmpdir(), 'tandem-cold-start-'));
  const provisioning = join(scratch, 'config.toml');
  // An address nothing listens on: the first screen must not depend on the server.
  writeFileSync(provisioning, 'server_url = "http://127.0.0.1:9"\norganisation = "Cold start"\n');
  try {
    const app = await launch(join(scratch, 'data'), provisioning);
    try {
      await usable(app.browser, FIRST_SCREEN, 'the first screen');
      const firstScreen = performance.now() - app.started;
      await sleep(SETTLE_MS);
      const { rss, pss } = measuredMemory(
        `run ${run}: session ready ${ms(app.sessionReady)}, first screen ${ms(firstScreen)}`,
      );
      return { sessionReady: app.sessionReady, firstScreen, rss, pss };
    } finally {
      await close(app);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * A signed-in laptop: a tandem-server seeded with SIGNED_IN_CLIENTS demo clients, the app
 * signed in once as coach1 and synced (not timed); then SIGNED_IN_RUNS starts on that data
 * directory, each timed to the unlock form, and from the unlock's submit to the Today screen
 * with its recent clients, and measured SETTLE_MS after it.
 */
async function signedInStarts() {
  const scratch = mkdtempSync(join(tmpdir(), 'tandem-cold-start-signed-in-'));
  const children = [];
  const serverDir = join(scratch, 'server');
  try {
    const seedStarted = performance.now();
    const seed = spawn(SERVER, ['seed-demo', '--clients', String(SIGNED_IN_CLIENTS), '--data-dir', serverDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let summary = '';
    seed.stdout.on('data', (chunk) => (summary += chunk));
    await finished(seed);
    assert.equal(seed.exitCode, 0, 'seed-demo failed');
    console.error(`server seeded in ${ms(performance.now() - seedStarted)}: ${summary.trim()}`);
    const server = spawn(SERVER, ['serve', '--listen', '127.0.0.1:0', '--data-dir', serverDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(server);
    const url = await listeningUrl(server);
    const provisioning = join(scratch, 'config.toml');
    writeFileSync(provisioning, `server_url = "${url}"\norganisation = "Cold start"\n`);
    const dataDir = join(scratch, 'laptop');

    const first = await launch(dataDir, provisioning);
    try {
      const { browser } = first;
      await usable(browser, '#signin-username', 'the sign-in form');
      await (await browser.$('#signin-username')).setValue('coach1');
      await (await browser.$('#signin-password')).setValue(DEMO_PASSWORD);
      const syncStarted = performance.now();
      await (await browser.$('form button[type="submit"]')).click();
      // The sync bar appears only once signing in has ended (longer with a large team).
      await until(
        async () => {
          const bar = await browser.$('.sync-last');
          return (await bar.isExisting()) && ((await bar.getAttribute('data-last-sync')) ?? '') !== '';
        },
        'the first sync did not finish within 30 minutes',
        30 * 60000,
        500,
      );
      console.error(`signed in and synced in ${ms(performance.now() - syncStarted)}`);
    } finally {
      await close(first);
    }

    const runs = [];
    for (let run = 1; run <= SIGNED_IN_RUNS; run++) {
      const app = await launch(dataDir, provisioning);
      try {
        const { browser } = app;
        await usable(browser, '#signin-password', 'the unlock form');
        const unlockScreen = performance.now() - app.started;
        await (await browser.$('#signin-password')).setValue(DEMO_PASSWORD);
        const submitted = performance.now();
        await (await browser.$('form button[type="submit"]')).click();
        await usable(browser, '.recent .card button', 'the Today screen with its recent clients');
        const today = performance.now() - submitted;
        await sleep(SETTLE_MS);
        const { rss, pss } = measuredMemory(
          `signed in, run ${run}: session ready ${ms(app.sessionReady)}, unlock form ${ms(unlockScreen)}, ` +
            `unlock to Today ${ms(today)}`,
        );
        runs.push({ sessionReady: app.sessionReady, unlockScreen, today, rss, pss });
      } finally {
        await close(app);
      }
    }
    return { runs, summary: summary.trim() };
  } finally {
    for (const child of children) {
      child.kill('SIGTERM');
      await finished(child);
    }
    rmSync(scratch, { recursive: true, force: true });
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const stats = (values, format) => `median ${format(median(values))}, max ${format(Math.max(...values))}`;
const ms = (value) => `${value.toFixed(0)} ms`;
const mib = (kb) => `${(kb / 1024).toFixed(1)} MiB`;

await appClosed(APP);
const runs = [];
for (let run = 1; run <= RUNS; run++) runs.push(await coldStart(run));
const pick = (key, from = runs) => from.map((r) => r[key]);
const binary = APP.split('/').slice(-2).join('/');
console.log(
  `FIGURE desktop_cold_start (${binary}, ${RUNS} runs, fresh data dir): first usable screen ` +
    `${stats(pick('firstScreen'), ms)}; baseline WebDriver session ready (app window and web view up) ` +
    `${stats(pick('sessionReady'), ms)}; ratio of medians ` +
    `${(median(pick('firstScreen')) / median(pick('sessionReady'))).toFixed(2)}`,
);
console.log(
  `FIGURE desktop_memory (${binary}, ${RUNS} runs, ${SETTLE_MS} ms after the first screen, app + WebKit ` +
    `processes): RSS ${stats(pick('rss'), mib)}; PSS ${stats(pick('pss'), mib)}`,
);
if (SERVER) {
  const signedIn = await signedInStarts();
  const from = signedIn.runs;
  const [, clients, contacts] = signedIn.summary.match(/(\d+) clients, (\d+) contacts/) ?? [];
  const store = `signed in, synced: ${clients} clients, ${contacts} contacts`;
  console.log(
    `FIGURE desktop_cold_start_signed_in (${binary}, ${from.length} runs, ${store}): unlock form ` +
      `${stats(pick('unlockScreen', from), ms)}; baseline WebDriver session ready ` +
      `${stats(pick('sessionReady', from), ms)}; unlock submitted to the Today screen with its recent ` +
      `clients ${stats(pick('today', from), ms)}`,
  );
  console.log(
    `FIGURE desktop_memory_signed_in (${binary}, ${from.length} runs, ${SETTLE_MS} ms after the Today ` +
      `screen, app + WebKit processes): RSS ${stats(pick('rss', from), mib)}; PSS ${stats(pick('pss', from), mib)}`,
  );
}
