// A form's unsaved values, kept in the encrypted store while they are typed, so that a lock,
// a closed window, a killed app or a dead battery does not take them: one form at a time for
// each user of the laptop (the shell keeps other users' apart). After unlocking, the app
// comes back to that form, which takes its values back, marked as not saved yet; saving the
// form forgets the draft in the same transaction. A new contact or client keeps its values;
// an edit of a record (a client, a contact's correction) keeps only what it changed, from
// what and to what (`EditChanges`), and gets back only the values nobody changed meanwhile,
// so that a draft never overwrites a colleague's edit. Keeping is best effort: a failure to keep (a
// full disk) never interrupts typing.
import { api, type JsonValue } from '../ipc';
import type { Screen } from './nav.svelte';

// The shape of what is kept; a draft of another shape (an older version's) is not offered.
const VERSION = 1;

/** A kept draft: which form, where it is shown, when it was typed, and its values. */
export type Draft = { form: string; screen: Screen; saved_at: string; values: unknown };

// Keeps the open form's values now (a lock is about to take the form).
let writer: (() => Promise<void>) | null = null;

/** The signed-in user's draft, if the store keeps one this version can read. */
export async function keptDraft(): Promise<Draft | null> {
  try {
    const kept = await api.formDraft();
    if (!kept) return null;
    const { version, screen, saved_at, values } = JSON.parse(kept.text);
    if (version !== VERSION || typeof saved_at !== 'string' || typeof screen?.name !== 'string') {
      // Not of this version's shape: never offered, so forgotten.
      await forgetDraft(kept.form);
      return null;
    }
    return { form: kept.form, screen, saved_at, values };
  } catch {
    return null;
  }
}

/** Keeps the values of `form` (about the record `about`), shown as `screen`, typed at
 * `savedAt`; says whether the store kept them. */
async function keepDraft(form: string, about: string | null, screen: Screen, values: unknown, savedAt: string): Promise<boolean> {
  try {
    return await api.setFormDraft(form, about, JSON.stringify({ version: VERSION, screen, saved_at: savedAt, values }));
  } catch {
    // Best effort: the form itself still holds the values.
    return false;
  }
}

/** Forgets the draft of `form` (left on purpose). */
export async function forgetDraft(form: string): Promise<void> {
  try {
    await api.setFormDraft(form, null, null);
  } catch {
    // A draft left behind comes back once and can be left again.
  }
}

/** Lets the open form be asked to keep its values now; returns the release. */
function draftWriter(write: () => Promise<void>): () => void {
  writer = write;
  return () => {
    if (writer === write) writer = null;
  };
}

/** Keeps the open form's values before a lock takes the form, waiting at most `ms`. */
export async function keepOpenDraft(ms = 1000): Promise<void> {
  const write = writer;
  if (!write) return;
  await Promise.race([write(), new Promise((resolve) => setTimeout(resolve, ms))]);
}

/**
 * Keeps one open form's values as its draft while they are typed: a second after each change
 * (`later`), at once before a lock (`keepOpenDraft`), a close (`keepNow`) or a save
 * (`write(true)`). Writes run one after another, so that none lands after the save that
 * forgets the draft; while a save runs, only the save writes.
 */
export class DraftKeeper {
  // What the store holds of this form: the JSON of the values kept, '' not known (a write
  // failed: the next one tries again, and one with nothing to keep forgets), null nothing.
  private kept: string | null = null;
  private writing: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly release: () => void;
  // Saved: the form is done, and writes nothing more.
  private finished = false;

  /**
   * `values`: what to keep now, or null when nothing differs from what the form was filled
   * with; `saving`: whether a save runs.
   */
  constructor(
    readonly form: string,
    private readonly about: string | null,
    private readonly screen: Screen,
    private readonly values: () => unknown,
    private readonly saving: () => boolean,
  ) {
    this.release = draftWriter(() => this.write());
  }

  /** Writes a second from now (after each change). */
  later(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.write(), 1000);
  }

  /** Keeps what is typed, or forgets what was kept once nothing differs any more, after the
   * writes before it. `beforeSave`: the save's own write. */
  write(beforeSave = false): Promise<void> {
    clearTimeout(this.timer);
    this.writing = this.writing.then(async () => {
      if (this.finished || (this.saving() && !beforeSave)) return;
      const values = this.values();
      if (values !== null) {
        const json = JSON.stringify(values);
        if (json === this.kept) return;
        const kept = await keepDraft(this.form, this.about, this.screen, values, new Date().toISOString());
        this.kept = kept ? json : '';
      } else if (this.kept !== null) {
        this.kept = null;
        await forgetDraft(this.form);
      }
    });
    return this.writing;
  }

  /** Keeps what is typed now, for a window about to close; says whether the store holds it
   * all (else closing asks first). While a save runs (one that hangs) nothing is written: a
   * write landing after the save's transaction would keep what was saved, to be saved twice;
   * what the save's own write kept is all the store holds. */
  async keepNow(): Promise<boolean> {
    if (!this.saving()) await this.write();
    const values = this.values();
    // Nothing to keep (topics put in another order): nothing is lost either.
    return values === null || this.kept === JSON.stringify(values);
  }

  /** The form took back what the store keeps: what it holds now is kept (nothing is written
   * again until it changes, so the draft keeps the time it was typed). */
  restored(): void {
    this.kept = JSON.stringify(this.values());
  }

  /** Saved: the store forgot the draft in the save's transaction; nothing is written after. */
  saved(): void {
    this.kept = null;
    this.finished = true;
    clearTimeout(this.timer);
  }

  /** The user left the form on purpose: what it kept goes too, after the writes before it
   * (a write under way ends first; the promise: once it is forgotten). */
  drop(): Promise<void> {
    clearTimeout(this.timer);
    this.finished = true;
    this.writing = this.writing.then(async () => {
      if (this.kept === null) return;
      this.kept = null;
      await forgetDraft(this.form);
    });
    return this.writing;
  }

  /** Forgets what the store keeps of this form, whatever it is, after the writes before it:
   * a draft the form cannot take back. */
  forget(): Promise<void> {
    this.writing = this.writing.then(async () => {
      this.kept = null;
      await forgetDraft(this.form);
    });
    return this.writing;
  }

  /** The form is gone: no write of its own any more (a lock kept what it held). */
  stop(): void {
    clearTimeout(this.timer);
    this.release();
  }
}

/** What the draft of an edit keeps: each value changed, from what and to what; `stale`: one
 * that was not given back (changed meanwhile), kept only to be shown, never given back. */
export type EditChanges = Record<string, { from: JsonValue; to: JsonValue; stale?: true }>;

/**
 * The changes of an edit: `changed` (field to value typed) over `before`, and `unresolved`,
 * what a draft given back could not give back (kept until the form is saved or left, so that
 * it is shown again after a lock or a restart); null if there are none.
 */
export function editChanges(
  before: Record<string, JsonValue>,
  changed: Record<string, JsonValue>,
  unresolved: EditChanges = {},
): EditChanges | null {
  const changes: EditChanges = {
    ...Object.fromEntries(Object.entries(unresolved).map(([name, change]) => [name, { ...change, stale: true as const }])),
    ...Object.fromEntries(Object.entries(changed).map(([name, to]) => [name, { from: before[name] ?? null, to }])),
  };
  return Object.keys(changes).length === 0 ? null : changes;
}

/**
 * Gives an edit's kept changes back onto `current` (the record as it is now): the value typed
 * for each field still as it was when typed (`values`); a field changed meanwhile, by a
 * colleague or a sync, is not given back, with the value typed for it (`stale`). Fields that
 * only make sense together (`groups`: a follow-up's date and whether it is done) are given
 * back together or not at all. A change of another shape or kind than its field's is left
 * out. Null if `kept` is not an edit's changes.
 */
export function applyEditChanges(
  current: Record<string, JsonValue>,
  kept: unknown,
  groups: string[][] = [],
): { values: Record<string, JsonValue>; stale: EditChanges } | null {
  if (typeof kept !== 'object' || kept === null || Array.isArray(kept)) return null;
  const kind = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
  const same = (a: JsonValue, b: JsonValue) => JSON.stringify(a) === JSON.stringify(b);
  const changes = new Map<string, EditChanges[string]>();
  for (const [name, change] of Object.entries(kept as Record<string, unknown>)) {
    if (typeof change !== 'object' || change === null || !('from' in change) || !('to' in change)) continue;
    const { from, to, stale } = change as { from: JsonValue; to: JsonValue; stale?: boolean };
    const known = [current[name] ?? null, from].filter((value) => value !== null).map(kind);
    if (to !== null && known.some((k) => k !== kind(to))) continue;
    changes.set(name, stale === true ? { from, to, stale: true } : { from, to });
  }
  // Changed meanwhile to something else than what was typed (to what was typed: nothing to
  // give back, nothing lost).
  // One shown as not given back before stays so, whatever its value now.
  const conflicting = new Set(
    [...changes]
      .filter(([name, { from, to, stale }]) => !same(current[name] ?? null, to) && (stale || !same(current[name] ?? null, from)))
      .map(([name]) => name),
  );
  for (const group of groups) {
    if (group.some((name) => conflicting.has(name))) group.forEach((name) => changes.has(name) && conflicting.add(name));
  }
  const values: Record<string, JsonValue> = {};
  const stale: EditChanges = {};
  for (const [name, change] of changes) {
    if (conflicting.has(name)) {
      if (!same(current[name] ?? null, change.to)) stale[name] = change;
    } else if (same(current[name] ?? null, change.from)) {
      values[name] = change.to;
    }
  }
  return { values, stale };
}

/**
 * An edit's save was refused because fields changed elsewhere since the form was filled in
 * (`changed_meanwhile`): the form goes on from the record as it is now (`now`). What the user
 * changed (`typed`, against `shown`, what the form was filled with) stays; every other field
 * shows its new value. `moved`: the fields the user changed that changed elsewhere too, to
 * something else than what they typed (the ones to look at before saving again).
 */
export function rebaseEdit(
  shown: Record<string, JsonValue>,
  typed: Record<string, JsonValue>,
  now: Record<string, JsonValue>,
): { values: Record<string, JsonValue>; moved: string[] } {
  const plain = (value: JsonValue | undefined): JsonValue =>
    value === undefined || (Array.isArray(value) && value.length === 0) ? null : value;
  const same = (a: JsonValue | undefined, b: JsonValue | undefined) => {
    const [x, y] = [plain(a), plain(b)];
    return Array.isArray(x) && Array.isArray(y)
      ? JSON.stringify([...x].sort()) === JSON.stringify([...y].sort())
      : JSON.stringify(x) === JSON.stringify(y);
  };
  const values = { ...now, ...typed };
  const moved = Object.keys(typed).filter((name) => !same(now[name], shown[name]) && !same(now[name], typed[name]));
  return { values, moved };
}
