// A form's unsaved values, kept in the encrypted store while they are typed, so that a lock,
// a closed window, a killed app or a dead battery does not take them: one form at a time,
// for the user who typed them. After unlocking, the app comes back to that form, which takes
// its values back, marked as not saved yet. Keeping is best effort: a failure to keep (a full
// disk) never interrupts typing, and the store drops a draft that names a purged client.
import { api } from '../ipc';
import type { Screen } from './nav.svelte';

/** What is kept: the form (`key`), who typed it, where it is, when, and its values. */
export type Draft = { key: string; username: string; screen: Screen; saved_at: string; values: unknown };

// Whose drafts are read and written: the signed-in user.
let user: string | null = null;
// Writes the open form's values now (a lock is about to take the form).
let writer: (() => Promise<void>) | null = null;

/** Reads and writes the drafts of `username` from now on (none: no drafts at all). */
export function draftsOf(username: string | null): void {
  user = username;
}

/** The draft this user left, if any. */
export async function keptDraft(): Promise<Draft | null> {
  if (!user) return null;
  try {
    const text = await api.formDraft();
    const draft = text ? (JSON.parse(text) as Draft) : null;
    return draft?.username === user ? draft : null;
  } catch {
    return null;
  }
}

/** Keeps the values of the form `key`, shown as `screen`, in place of any other draft. */
export async function keepDraft(key: string, screen: Screen, values: unknown): Promise<void> {
  if (!user) return;
  const draft: Draft = { key, username: user, screen, saved_at: new Date().toISOString(), values };
  try {
    await api.setFormDraft(JSON.stringify(draft));
  } catch {
    // Best effort: the form itself still holds the values.
  }
}

/** Forgets the draft of the form `key` (saved, or left on purpose), if it is the one kept. */
export async function forgetDraft(key: string): Promise<void> {
  if ((await keptDraft())?.key !== key) return;
  try {
    await api.setFormDraft(null);
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

/** Keeps the open form's values now, before a lock takes the form. */
export async function keepOpenDraft(): Promise<void> {
  await writer?.();
}
