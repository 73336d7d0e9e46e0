"""`Stepper`: the backward pass in a browser, one gate per press of "next"."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from gategrad.engine import Step, Value, fmt, topological_order
from gategrad.engine.gates import name
from gategrad.explain.lang import ENGLISH, gate_words, sentence
from gategrad.files import atomic_write
from gategrad.viz import page
from gategrad.viz.dot import MAX_NODES, Frame, walkthrough_frames


class Stepper:
    """Step through the backward pass of `root` in a browser, one gate per press of "next".

    Holds the walkthrough's frames (pass `frames` from `walkthrough_frames` to reuse their
    pictures, or they are made here): `save(path)` writes them as one self-contained HTML
    page, and Jupyter shows the same page inline. Its first step is the forward pass, its
    last has the finished gradients, and a table follows each named input's gradient.
    Its words are in `lang` ("en", "zh", "ru", ...), and so must its `frames` be.
    """

    def __init__(
        self,
        root: Value,
        rankdir: str = "LR",
        max_nodes: int = MAX_NODES,
        params: Collection[Value] = (),
        frames: Sequence[Frame] | None = None,
        lang: str = ENGLISH,
    ) -> None:
        self.ui = page.ui_strings(lang)
        if frames is None:
            frames = walkthrough_frames(root, None, "svg", rankdir, max_nodes, params, lang)
        other = {frame.lang for frame in frames} - {lang}
        if other:
            raise ValueError(
                f"the frames are in {', '.join(sorted(other))} and the stepper in {lang}: "
                f"make them with walkthrough_frames(..., lang={lang!r})"
            )
        self.lang = lang
        self.frames = list(frames)
        self.inputs = [v for v in topological_order(root) if not v.children and v.label]
        self.title = root.label or self.ui["untitled"]
        self._slides = [self._slide(k, frame) for k, frame in enumerate(self.frames)]

    def _slide(self, k: int, frame: Frame) -> page.Slide:
        svg, grads = page.inline_svg(frame.svg), tuple(frame.grads[v] for v in self.inputs)
        if frame.step is None:
            return page.Slide(svg, self.ui["forward"], frame.caption, grads)
        words = gate_words(frame.step.op, self.lang)
        heading = self.ui["backward"].format(k=k, n=len(self.frames) - 1, **words)
        said = sentence(frame.step, self.lang)
        gate, phrase = words["gate"], words["gate_phrase"]
        return page.Slide(svg, heading, said, grads, gate, phrase, **_predict(frame.step))

    def save(self, path: str | Path) -> Path:
        """Write the page to `path` as one HTML file and return the path; a reader never sees half a file."""
        path = Path(path)
        names = [v.label for v in self.inputs]
        atomic_write(path, page.document(self.title, names, self._slides, self.ui, self.lang))
        return path

    def _repr_html_(self) -> str:
        """The page for Jupyter: ids of its own, keys only while it has focus."""
        names = [v.label for v in self.inputs]
        prefix = f"gategrad-{uuid.uuid4().hex[:12]}-"
        return page.fragment(
            self.title, names, self._slides, id_prefix=prefix, page_keys=False, ui=self.ui, lang=self.lang
        )


def _predict(step: Step) -> dict[str, Any]:
    """What predict mode asks and checks at `step`: its output, the upstream, what each input gets."""
    return {
        "output": name(step.output),
        "upstream": fmt(step.upstream),
        "inputs": tuple(
            page.SlideInput(name(i.value), fmt(i.local_grad), fmt(i.contribution), repr(i.contribution))
            for i in step.inputs
        ),
    }
