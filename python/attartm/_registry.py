"""The one registry of model classes, by kind ("artm", "attentive", "thetaless").

``TopicModel.__init_subclass__`` fills it as the classes are defined; persistence, the
command line and experiments read it. It sits below all of them, so that persistence
can build any model without importing the model modules (which import persistence to
save): importing :mod:`attartm` defines, and so registers, every class.
"""

from __future__ import annotations

from typing import Any

#: Every model class by its kind, in the order the classes were defined.
MODEL_KINDS: dict[str, type[Any]] = {}
