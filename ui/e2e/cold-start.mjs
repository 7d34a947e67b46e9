// Cold start of the desktop app and its memory use (docs/benchmarks.md): the built binary,
// driven through tauri-driver and WebKitWebDriver under Xvfb like app.test.mjs, started
// COLD_START_RUNS times (default 5), each time on a fresh data directory with a provisioning
// file, as a laptop's first start. Prints `FIGURE` lines for scripts/lib/bench_report.py.
//
//   TANDEM_DESKTOP_BIN=... xvfb-run -a scripts/with-keyring node ui/e2e/cold-start.mjs
//
// Per run: the time from just before the WebDriver session is created (which launches the
// app) until the session is ready (the app's window and web view exist: the baseline), and
// until the first usable screen (the sign-in form's username input, enabled); then, after
// COLD_START_SETTLE_MS (default 1000), the summed RSS and PSS of the app and every
// descendant process (WebKitWebProcess, WebKitNetworkProcess, their sandbox helpers).
// It asserts nothing about time: a run fails only when the screen never appears.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { remote } from 'webdriverio';
import { finished, freePort, listening, processesOf, sleep, until } from './lib.mjs';

const APP = resolve(process.env.TANDEM_DESKTOP_BIN ?? '');
const RUNS = Number(process.env.COLD_START_RUNS ?? 5);
const SETTLE_MS = Number(process.env.COLD_START_SETTLE_MS ?? 1000);
const FIRST_SCREEN = '#signin-username, #client-search';
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

/** Waits for the app to be gone: the single-instance plugin would hand a start to a closing app. */
function appClosed() {
  return until(() => processesOf(APP).length === 0, `${APP} still runs after 20 s; close it first`, 20000);
}

async function coldStart(run) {
  const scratch = mkdtempSync(join(tmpdir(), 'tandem-cold-start-'));
  const provisioning = join(scratch, 'config.toml');
  // An address nothing listens on: the first screen must not depend on the server.
  writeFileSync(provisioning, 'server_url = "http://127.0.0.1:9"\norganisation = "Cold start"\n');
  const port = await freePort();
  const driver = spawn('tauri-driver', ['--port', String(port), '--native-port', String(await freePort())], {
    env: { ...process.env, TANDEM_DATA_DIR: join(scratch, 'data'), TANDEM_PROVISIONING_FILE: provisioning },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  driver.stderr.on('data', (chunk) => process.stderr.write(`[tauri-driver] ${chunk}`));
  let browser;
  try {
    await listening(port, driver);
    const started = performance.now();
    browser = await remote({
      hostname: '127.0.0.1',
      port,
      logLevel: 'error',
      capabilities: { 'tauri:options': { application: APP }, 'wdio:enforceWebDriverClassic': true },
    });
    const sessionReady = performance.now() - started;
    // One script per poll, so the poll costs one round trip rather than several commands.
    const usableScreen = () =>
      browser.execute((selector) => {
        const input = document.querySelector(selector);
        return input !== null && !input.disabled && input.getClientRects().length > 0;
      }, FIRST_SCREEN);
    await until(usableScreen, 'the first screen did not appear within 60 s', 60000, 10);
    const firstScreen = performance.now() - started;
    await sleep(SETTLE_MS);
    const { processes, rss, pss } = memory();
    const each = processes.map((p) => `${p.name} ${mib(p.rss)} / ${mib(p.pss)}`).join(', ');
    console.error(
      `run ${run}: session ready ${ms(sessionReady)}, first screen ${ms(firstScreen)}, ` +
        `RSS ${mib(rss)}, PSS ${mib(pss)} (RSS / PSS: ${each})`,
    );
    return { sessionReady, firstScreen, rss, pss };
  } finally {
    await browser?.deleteSession().catch(() => {});
    try {
      await appClosed();
    } finally {
      driver.kill('SIGTERM');
      await finished(driver);
      rmSync(scratch, { recursive: true, force: true });
    }
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

await appClosed();
const runs = [];
for (let run = 1; run <= RUNS; run++) runs.push(await coldStart(run));
const pick = (key) => runs.map((r) => r[key]);
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
