// A new contact's unsaved values, kept in the encrypted store while they are typed, so that a
// lock, a closed window, a killed app or a dead battery does not take them: one form at a
// time, the signed-in user's (the shell keeps another user's apart). After unlocking, the app
// comes back to that form, which takes its values back, marked as not saved yet; saving the
// form forgets the draft in the same transaction. Keeping is best effort: a failure to keep
// (a full disk) never interrupts typing.
import { api } from '../ipc';
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

/** Keeps the values of `form` (about the client `about`), shown as `screen`, typed at
 * `savedAt`; says whether the store kept them. */
export async function keepDraft(form: string, about: string | null, screen: Screen, values: unknown, savedAt: string): Promise<boolean> {
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
export function draftWriter(write: () => Promise<void>): () => void {
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
