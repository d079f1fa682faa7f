"""scikit-learn's parameter protocol (``get_params``, ``set_params``) without importing
scikit-learn, which attartm does not depend on.

The parameters are the arguments of ``__init__``, kept exactly as given, so that
``sklearn.base.clone`` (which rebuilds an object from ``get_params()`` and checks that
every value came back unchanged) works; checking them is the model's job at ``fit``.
"""

from __future__ import annotations

import inspect
from typing import Any


class Parameters:
    """``get_params``/``set_params`` over the arguments of ``__init__``."""

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [
            p.name
            for p in signature.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters, as given (and set since). With ``deep``, parameters
        that have parameters of their own add them as ``name__parameter``."""
        out: dict[str, Any] = {}
        for name in self._param_names():
            value = getattr(self, name)
            out[name] = value
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params(deep=True).items())
        return out

    def set_params(self, **params: Any):
        """Sets parameters (``name`` or nested ``name__parameter``) and returns ``self``.
        They are checked, and take effect, at the next ``fit``."""
        names = self._param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in names:
                raise ValueError(
                    f"{type(self).__name__} has no parameter {name!r}; "
                    f"its parameters are {', '.join(names)}"
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({params})"
