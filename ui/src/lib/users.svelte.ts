// The people this laptop can name (the team's users from its last sync, and everyone who
// signed in here): a contact's coach is kept as a user id and shown by name. Each screen
// that shows coaches loads the names when it opens (a local read; a sync may have brought
// a new colleague since).
import { api, type UserNamesView } from '../ipc';

export const users = $state<{ view: UserNamesView | null }>({ view: null });

/** Reads the names from the local store; a failure leaves the last list. */
export async function loadUserNames(): Promise<UserNamesView | null> {
  try {
    users.view = await api.userNames();
  } catch {
    // Names are a nicety here: the screen still works without them.
  }
  return users.view;
}

/** The username of the user with this id, or null when this laptop does not know them. */
export function userName(id: string | null | undefined): string | null {
  if (!id) return null;
  return users.view?.names[id] ?? null;
}
