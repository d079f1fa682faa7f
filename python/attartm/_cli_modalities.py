"""The command line's modalities: ``--modality NAME=COLUMN`` and ``--modality-weight
NAME=WEIGHT`` of ``attartm train`` (and the corpus options of the other commands), and
``attartm predict``, which writes a modality's most probable values for every document.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._atomic import atomic_write
from ._tables import read_table
from .corpus import Corpus
from .persistence import load


def pairs(values: list[str] | None, option: str, convert: Callable[[str], Any]) -> dict[str, Any]:
    """``NAME=VALUE`` arguments as a mapping, with a clear error for a malformed one."""
    out: dict[str, Any] = {}
    for item in values or ():
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"{option} takes NAME=VALUE (e.g. {option} label=5), not {item!r}")
        try:
            out[name] = convert(value)
        except ValueError:
            raise ValueError(f"{option} {item!r}: {value!r} is not a number") from None
    return out


def modality_columns(args: argparse.Namespace) -> dict[str, str]:
    """The other modalities of the input: modality name -> column."""
    return pairs(getattr(args, "modality", None), "--modality", str)


def modality_weights(args: argparse.Namespace) -> dict[str, float] | None:
    """The weights of ``--modality-weight`` (None when there are none)."""
    return pairs(getattr(args, "modality_weight", None), "--modality-weight", float) or None


def add_corpus_modalities(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--modality", action="append", metavar="NAME=COLUMN",
        help="another modality: a column of strings or lists of strings (repeatable), e.g. "
        "--modality label=category",
    )  # fmt: skip


def cmd_predict(args: argparse.Namespace) -> int:
    model = load(args.model)
    if args.modality not in model.modalities or args.modality == "text":
        others = [m for m in model.modalities if m != "text"]
        raise ValueError(
            f"--modality names one of the model's other modalities ({others or 'it has none'}), "
            f"not {args.modality!r}"
        )
    frame = read_table(args.input, args.text, args.id)
    corpus = Corpus.from_polars(
        frame, text=args.text, id=args.id, language=args.language,
        vocabulary=model.vocabularies, allow_empty=True,
    )  # fmt: skip
    predictions = model.predict(corpus, args.modality, k=args.k)
    out = Path(args.output)
    atomic_write(out, lambda tmp: predictions.write_parquet(tmp))
    print(f"wrote {args.k} {args.modality} values of {corpus.n_documents} documents to {out}",
          file=sys.stderr)  # fmt: skip
    return 0


def add_predict_parser(sub: Any) -> None:
    predict = sub.add_parser(
        "predict", help="write the most probable values of a modality (a label) per document"
    )
    predict.add_argument("model")
    predict.add_argument("input", help="parquet file or glob, .csv file, or folder of .txt files")
    predict.add_argument("--text", default="text", help="text column (default: text)")
    predict.add_argument("--id", default=None, help="document id column (default: row number)")
    predict.add_argument("--language", default="en", choices=["en", "ru"])
    predict.add_argument("--modality", required=True, help="the modality to predict, e.g. label")
    predict.add_argument("-k", type=int, default=1, help="values per document (default: 1)")
    predict.add_argument("-o", "--output", required=True, help="the .parquet file to write")
    predict.set_defaults(run=cmd_predict)
