// What a form held when Tandem locked under it (after inactivity, or the Lock button): kept
// in memory only, never written anywhere, and given back once to the same form after the
// same user unlocks. A new sign-in drops them all.

const kept = new Map<string, unknown>();

/** Keeps the values of the form `key` until it is mounted again. */
export function keepDraft(key: string, values: unknown): void {
  kept.set(key, values);
}

/** The values kept for the form `key`, once. */
export function takeDraft<T>(key: string): T | undefined {
  const values = kept.get(key) as T | undefined;
  kept.delete(key);
  return values;
}

/** Forgets every kept draft. */
export function dropDrafts(): void {
  kept.clear();
}
