"""The settings of an AttentiveARTM's inference contexts (docs/mathematics.md §5.1) as the
benchmarks fix them."""

from __future__ import annotations

SETTINGS = ("inference_window", "inference_passes", "inference_document_weight")
#: Inference in the training contexts: a fit ends without choosing any.
TRAINING_CONTEXTS: dict[str, None] = dict.fromkeys(SETTINGS)
#: The defaults: every context chosen by likelihood at the end of a fit.
CHOSEN_CONTEXTS: dict[str, str] = dict.fromkeys(SETTINGS, "auto")
