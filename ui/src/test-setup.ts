// Unit tests mock only the Tauri boundary: `invoke` and `Channel` of @tauri-apps/api/core.
// Everything above it (the IPC wrapper, screens, components) is the real code.
import { vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({
  invoke: vi.fn(),
  Channel: class {
    onmessage: (message: unknown) => void = () => {};
  },
}));

// Each test starts from an empty document.
import { cleanup } from '@testing-library/svelte';
import { afterEach } from 'vitest';
afterEach(() => cleanup());
