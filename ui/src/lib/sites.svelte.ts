// The sites (NGO premises) this laptop knows: a contact's site is kept as an id and shown by
// name. Each screen that shows or offers sites loads them when it opens (a local read; a
// sync may have renamed or added one since).
import { api, type SitesView } from '../ipc';

export const sites = $state<{ view: SitesView | null }>({ view: null });

/** Reads the sites from the local store; a failure leaves the last list (names only). */
export async function loadSites(): Promise<SitesView | null> {
  try {
    sites.view = await api.sites();
  } catch {
    // Names are a nicety here: the screen still works with ids.
  }
  return sites.view;
}

/** The name of the site with this id, or null when this laptop does not know it. */
export function siteName(id: string | null | undefined): string | null {
  if (!id) return null;
  return sites.view?.sites.find((site) => site.id === id)?.name ?? null;
}
