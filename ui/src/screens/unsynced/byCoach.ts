// Unsynced changes grouped by the coach who made them: a shared laptop can hold the changes
// of several coaches who signed in on it one after another.

/** One coach's changes, in the order the list had them. */
export interface CoachChanges<T> {
  authorId: string;
  name: string;
  changes: T[];
}

/**
 * Groups `changes` by author, the groups in the order of each author's first change. The
 * name is the team's (from the team lead's list of laptops) when `names` has it, else the
 * one this laptop knows.
 */
export function byCoach<T extends { author_id: string; author: string }>(
  changes: readonly T[],
  names: ReadonlyMap<string, string> = new Map(),
): CoachChanges<T>[] {
  const groups = new Map<string, CoachChanges<T>>();
  for (const change of changes) {
    let group = groups.get(change.author_id);
    if (!group) {
      group = { authorId: change.author_id, name: names.get(change.author_id) ?? change.author, changes: [] };
      groups.set(change.author_id, group);
    }
    group.changes.push(change);
  }
  return [...groups.values()];
}
