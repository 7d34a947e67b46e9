import { describe, expect, it } from 'vitest';
import { offlineStatus } from '../test/commands';
import { nextProgress } from './syncProgress';

describe('nextProgress', () => {
  it('follows the pulled pages of a sync and clears when a sync starts or ends', () => {
    let progress = nextProgress(null, { event: 'started' });
    expect(progress).toBeNull();
    progress = nextProgress(progress, { event: 'pushed', count: 3 });
    expect(progress).toBeNull();
    progress = nextProgress(progress, { event: 'pulled', count: 500, purged: 0, received: 500, percent: 4 });
    expect(progress).toEqual({ received: 500, percent: 4 });
    progress = nextProgress(progress, { event: 'pushed', count: 1 });
    expect(progress).toEqual({ received: 500, percent: 4 });
    progress = nextProgress(progress, { event: 'pulled', count: 500, purged: 0, received: 1000, percent: null });
    expect(progress).toEqual({ received: 1000, percent: null });
    expect(nextProgress(progress, { event: 'finished', status: offlineStatus, conflicts_changed: false })).toBeNull();
    expect(nextProgress(progress, { event: 'started' })).toBeNull();
  });
});
