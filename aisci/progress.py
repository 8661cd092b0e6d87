"""Progress bars for a run in a terminal: a subscriber to the runner's hooks (tqdm)."""

from __future__ import annotations

from aisci.hooks import Hooks, PhaseEvent


class ProgressBars:
    """One bar over the phases; the phase running, or the node running, as its label.
    Messages are written above the bar."""

    def __init__(self):
        self.bar = None

    def hooks(self) -> Hooks:
        return Hooks(on_phase_start=self.phase_start, on_phase_end=self.phase_end, on_phase_error=self.stop,
                     on_node_start=self.node_start, on_node_end=self.node_end, on_gate=self.stop,
                     on_message=self.message)

    def phase_start(self, event: PhaseEvent) -> None:
        from tqdm.auto import tqdm  # loaded only when a run shows progress

        if self.bar is None:
            self.bar = tqdm(total=event.total, desc="aisci", unit="phase")
        self.bar.set_postfix_str(event.phase + (" (up to date)" if event.up_to_date else ""))

    def phase_end(self, event: PhaseEvent) -> None:
        self.bar.update(1)
        if event.index + 1 == event.total:
            self.close()

    def node_start(self, node) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"experiments: {node.id}")

    def node_end(self, node) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"experiments: {node.id} {node.status}")

    def message(self, text: str) -> None:
        if self.bar is None:
            print(text)
        else:
            self.bar.write(text)

    def stop(self, *_details) -> None:
        self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
