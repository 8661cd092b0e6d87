"""The Jupyter kernel aisci starts: ipykernel's, with one fix to how it shuts down.

ipykernel (7.x) answers a shutdown request on its control thread, which then stops the main
loop, and the process exits: at exit, ipykernel stops its IOPub thread first and only then
joins the control thread. But the control thread is not done when the main loop stops: it
still flushes stdout and publishes its "idle" status, both through the IOPub thread. When
IOPub has stopped first, the control thread waits for it forever, the exit hangs, and the
kernel manager sends SIGTERM after half its grace (2.5 s). That cost about a third of the
nodes 2.5 s, sandboxed or not, and the kill skipped the interpreter's own clean-up (the
notebook's files still open lost what they had buffered). Here the main thread, once its loop has
stopped, waits for the control thread while IOPub still runs; ipykernel's exit then finds
nothing left to wait for.

Run as a script (`python .../kernel_app.py -f <connection file>`), like ipykernel_launcher:
module level imports the standard library and ipykernel only, not aisci (whose imports would
add a quarter second to every kernel start), and its own folder leaves sys.path so that a
notebook's `import build` finds the node's file, not one of aisci's modules.
"""

from __future__ import annotations

import os
import sys

CONTROL_JOIN_S = 5  # the control thread normally ends within milliseconds


def _leave_sys_path() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]


def main() -> None:
    _leave_sys_path()
    from ipykernel.kernelapp import IPKernelApp

    class KernelApp(IPKernelApp):
        def start(self):
            super().start()  # returns once a shutdown request (or an interrupt) stopped the main loop
            control = self.control_thread
            if control is not None and control.is_alive():
                control.stop()
                control.join(CONTROL_JOIN_S)

    KernelApp.launch_instance()


if __name__ == "__main__":
    main()
