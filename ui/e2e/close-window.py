#!/usr/bin/env python3
"""Asks the windows of process PID to close, as a window manager's close button does.

Usage: close-window.py PID

Sends each top-level window of PID (found by _NET_WM_PID) the WM_DELETE_WINDOW message of
the ICCCM: the request GTK turns into a close request, which Tauri hands to the app. The
end-to-end tests run under Xvfb without a window manager, so nothing else sends it. Exits 1
when PID has no window that takes the message.
"""

import sys

from Xlib import X, display, error
from Xlib.protocol import event


def windows_of(screen_root, pid, pid_atom):
    """The windows under the root whose _NET_WM_PID is pid (one destroyed while looked at is
    skipped)."""
    found = []
    pending = list(screen_root.query_tree().children)
    while pending:
        window = pending.pop()
        try:
            prop = window.get_full_property(pid_atom, X.AnyPropertyType)
            if prop is not None and list(prop.value) == [pid]:
                found.append(window)
            pending.extend(window.query_tree().children)
        except error.BadWindow:
            continue
    return found


def main():
    pid = int(sys.argv[1])
    conn = display.Display()
    pid_atom = conn.intern_atom("_NET_WM_PID")
    protocols = conn.intern_atom("WM_PROTOCOLS")
    delete = conn.intern_atom("WM_DELETE_WINDOW")
    asked = 0
    for window in windows_of(conn.screen().root, pid, pid_atom):
        try:
            if delete not in (window.get_wm_protocols() or []):
                continue
        except error.BadWindow:
            continue
        message = event.ClientMessage(
            window=window,
            client_type=protocols,
            data=(32, [delete, X.CurrentTime, 0, 0, 0]),
        )
        window.send_event(message, event_mask=X.NoEventMask)
        asked += 1
    conn.flush()
    if asked == 0:
        print(f"process {pid} has no window that takes WM_DELETE_WINDOW", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
