"""One registry of model classes, used by persistence, the command line and experiments."""

from __future__ import annotations

import attartm
from attartm import cli, experiments, persistence
from attartm._model import TopicModel
from attartm._registry import MODEL_KINDS


def test_every_model_class_is_registered_once_by_its_kind():
    assert MODEL_KINDS == {
        "artm": attartm.ARTM,
        "attentive": attartm.AttentiveARTM,
        "thetaless": attartm.ThetalessARTM,
    }
    assert all(issubclass(cls, TopicModel) for cls in MODEL_KINDS.values())


def test_persistence_cli_and_experiments_read_the_registry():
    assert cli.MODELS is MODEL_KINDS
    assert experiments.MODELS is MODEL_KINDS
    assert persistence._model_classes() == {c.__name__: c for c in MODEL_KINDS.values()}


def test_a_new_kind_registers_itself_and_a_plain_subclass_does_not():
    class Plain(attartm.ARTM):
        pass

    class Custom(attartm.ARTM):
        _kind = "custom-test-kind"

    try:
        assert MODEL_KINDS["artm"] is attartm.ARTM
        assert MODEL_KINDS["custom-test-kind"] is Custom
    finally:
        MODEL_KINDS.pop("custom-test-kind", None)
