// Grouping the unsynced changes of a shared laptop by the coach who made them.
import { describe, expect, it } from 'vitest';
import { byCoach } from './byCoach';

const change = (id: string, author_id: string, author: string) => ({ change_id: id, author_id, author });

describe('byCoach', () => {
  it('groups changes by author in the order of each author’s first change, keeping their order', () => {
    const groups = byCoach([
      change('c1', 'u2', 'coach2'),
      change('c2', 'u1', 'coach1'),
      change('c3', 'u2', 'coach2'),
      change('c4', 'u1', 'coach1'),
    ]);
    expect(groups.map((g) => [g.authorId, g.name, g.changes.map((c) => c.change_id)])).toEqual([
      ['u2', 'coach2', ['c1', 'c3']],
      ['u1', 'coach1', ['c2', 'c4']],
    ]);
  });

  it('names a coach the laptop does not know from the team’s list, else as the laptop does', () => {
    const groups = byCoach([change('c1', 'u1', 'coach1'), change('c2', 'u9', '0000abcd')], new Map([['u9', 'coach9']]));
    expect(groups.map((g) => g.name)).toEqual(['coach1', 'coach9']);
  });

  it('gives no groups for no changes', () => {
    expect(byCoach([])).toEqual([]);
  });
});
