// Helpers shared by the WebDriver scripts of the desktop app (app.test.mjs, cold-start.mjs,
// installed-app.mjs): ports, waiting for a listener (or for the URL tandem-server prints), a
// condition, a process or the app's close, waiting for an element, screenshots.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

/** Resolves once something accepts connections on 127.0.0.1:`port`; fails early if `child` exits. */
export async function listening(port, child = null, timeout = 20000) {
  const accepts = () =>
    new Promise((done) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => socket.end(() => done(true)));
      socket.once('error', () => done(false));
    });
  await until(async () => {
    if (child) assert.equal(child.exitCode, null, `${child.spawnfile} exited before it listened on ${port}`);
    return accepts();
  }, `nothing listens on ${port}`, timeout);
}

/**
 * Resolves with the URL a started `tandem-server serve` prints once it listens ("listening on
 * http://..."; `--listen 127.0.0.1:0` picks a free port); fails if it exits first.
 */
export function listeningUrl(server) {
  return new Promise((done, fail) => {
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/listening on (http:\/\/[\d.:]+)/);
      if (match) done(match[1]);
    });
    server.once('exit', (code) => fail(new Error(`tandem-server exited with ${code} before it listened`)));
  });
}

/** Polls `condition` (which may be async) until it holds; fails with `message` after `timeout` ms. */
export async function until(condition, message, timeout = 15000, interval = 50) {
  for (const deadline = Date.now() + timeout; !(await condition()); await sleep(interval)) {
    assert.ok(Date.now() < deadline, message);
  }
}

/** Resolves once the child process has exited (at once if it has). */
export function finished(child) {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once('exit', done);
  });
}

/** The D-Bus name by which a running app takes a second start over (tauri-plugin-single-instance). */
const SINGLE_INSTANCE_NAME = `${JSON.parse(readFileSync(join(import.meta.dirname, '../../tauri.conf.json'), 'utf8')).identifier}.SingleInstance`;

/** Whether a running app still holds the single-instance name on the session bus. */
function singleInstanceHeld() {
  const reply = execFileSync('dbus-send', [
    '--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus',
    'org.freedesktop.DBus.NameHasOwner', `string:${SINGLE_INSTANCE_NAME}`,
  ], { encoding: 'utf8' });
  return /boolean true/.test(reply);
}

/**
 * Waits for the app at the absolute path `binary` to be gone: its processes, and its hold on
 * the single-instance name, which outlives the process's `/proc/PID/exe` by a moment while it
 * exits. An app started in that moment hands its start to the closing one and quits.
 */
export function appClosed(binary, message = `${binary} still runs after 20 s; close it first`) {
  return until(() => processesOf(binary).length === 0 && !singleInstanceHeld(), message, 20000);
}

/** The pids of the processes that run the binary at the absolute path `binary`. */
export function processesOf(binary) {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/exe`) === binary;
      } catch {
        return false; // Ended while we looked, or not ours to read.
      }
    });
}

/** The element `selector` of the app in `browser`, once it is displayed. */
export async function displayed(browser, selector, timeout = 15000) {
  const element = await browser.$(selector);
  await element.waitForDisplayed({ timeout });
  return element;
}

/** Saves a screenshot of the app as `dir`/`name`.png once the last change is painted. */
export async function screenshot(browser, dir, name) {
  // Two animation frames: the first screenshot after a change can show the previous paint.
  await browser.execute(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await browser.saveScreenshot(join(dir, `${name}.png`));
}
