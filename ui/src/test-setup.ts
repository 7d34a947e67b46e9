// Unit tests mock only the Tauri boundary: `invoke` and `Channel` of @tauri-apps/api/core.
// Everything above it (the IPC wrapper, screens, components) is the real code.
import { vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({
  invoke: vi.fn(),
  Channel: class {
    onmessage: (message: unknown) => void = () => {};
  },
}));

// Each test starts from an empty document, on the Today screen with no notice, no undo and
// no form's values kept from a lock (a form unmounted with changes keeps them).
import { cleanup } from '@testing-library/svelte';
import { afterEach } from 'vitest';
import { dropDrafts } from './lib/drafts';
import { nav } from './lib/nav.svelte';
afterEach(() => {
  cleanup();
  dropDrafts();
  Object.assign(nav, { screen: { name: 'today' }, notice: null, undo: null });
});
