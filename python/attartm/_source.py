"""The source text a corpus may keep (``keep_text=True``): every document's text and the
characters of every token in it, so that spans of tokens map back to the raw text with
its stopwords and punctuation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class SourceText:
    """``texts`` (one per document) and, per token of the corpus, the characters
    ``starts[i]:ends[i]`` of its source within its document's text (Python string
    indices)."""

    texts: pl.Series
    starts: np.ndarray
    ends: np.ndarray

    def select(self, documents: np.ndarray, rows: np.ndarray) -> SourceText:
        """The source of documents ``documents`` whose tokens are rows ``rows``."""
        return SourceText(self.texts.gather(documents), self.starts[rows], self.ends[rows])

    def slice(self, first: int, count: int, lo: int, hi: int) -> SourceText:
        """The source of ``count`` documents from ``first``, tokens ``lo:hi``."""
        return SourceText(self.texts.slice(first, count), self.starts[lo:hi], self.ends[lo:hi])

    def spans(self, docs: np.ndarray, first: np.ndarray, last: np.ndarray) -> list[str]:
        """The source text from the first character of token row ``first[i]`` to the
        last of token row ``last[i]`` of document ``docs[i]``."""
        texts = self.texts.gather(docs).to_list()
        return [
            (text or "")[a:b]
            for text, a, b in zip(texts, self.starts[first].tolist(), self.ends[last].tolist())
        ]
