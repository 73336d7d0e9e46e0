"""`Stepper`: the backward pass in a browser, one gate per press of "next"."""

from __future__ import annotations

import os
import uuid
from collections.abc import Collection, Sequence
from pathlib import Path

from gategrad.engine import Value, topological_order
from gategrad.viz import page
from gategrad.viz.dot import MAX_NODES, Frame, walkthrough_frames


class Stepper:
    """Step through the backward pass of `root` in a browser, one gate per press of "next".

    Holds the walkthrough's frames (pass `frames` from `walkthrough_frames` to reuse their
    pictures, or they are made here): `save(path)` writes them as one self-contained HTML
    page, and Jupyter shows the same page inline. Its first step is the forward pass, its
    last has the finished gradients, and a table follows each named input's gradient.
    """

    def __init__(
        self,
        root: Value,
        rankdir: str = "LR",
        max_nodes: int = MAX_NODES,
        params: Collection[Value] = (),
        frames: Sequence[Frame] | None = None,
    ) -> None:
        if frames is None:
            frames = walkthrough_frames(root, None, "svg", rankdir, max_nodes, params)
        self.frames = list(frames)
        self.inputs = [v for v in topological_order(root) if not v.children and v.label]
        self.title = root.label or "the circuit"
        gates = len(self.frames) - 1
        self._slides = [
            page.Slide(
                page.inline_svg(frame.svg),
                "Forward pass" if frame.step is None else f"Backward pass, gate {k} of {gates}: {frame.step.op}",
                frame.caption if frame.step is None else frame.step.explanation,
                tuple(frame.grads[v] for v in self.inputs),
            )
            for k, frame in enumerate(self.frames)
        ]

    def save(self, path: str | Path) -> Path:
        """Write the page to `path` as one HTML file and return the path; a reader never sees half a file."""
        path = Path(path)
        names = [v.label for v in self.inputs]
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(page.document(self.title, names, self._slides), encoding="utf-8")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def _repr_html_(self) -> str:
        """The page for Jupyter: ids of its own, keys only while it has focus."""
        names = [v.label for v in self.inputs]
        prefix = f"gategrad-{uuid.uuid4().hex[:12]}-"
        return page.fragment(self.title, names, self._slides, id_prefix=prefix, page_keys=False)
