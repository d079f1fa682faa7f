"""The tokenized corpus: one polars frame of (doc, token id, boundary level) rows.

:class:`Corpus` gathers what its concerns define in their own modules: the container and
its views (``_documents``), text to tokens (``_texts``), array inputs (``_token_ids``),
bags of words (``_bow``) and corpora larger than memory (``streaming``).
"""

from __future__ import annotations

from . import _bow, _texts, _token_ids, streaming
from ._documents import Documents

__all__ = ["Corpus"]


class Corpus(Documents):
    """A tokenized corpus.

    The tokens are stored in one polars DataFrame (:attr:`tokens`) with columns ``doc``
    (UInt32 document index), ``token`` (UInt32 id into :attr:`vocabulary`) and
    ``boundary`` (UInt8: 0 none, 1 the token starts a sentence, 2 it starts a paragraph),
    in document order then position order. Documents are identified by :attr:`ids`.

    Build a corpus with :meth:`from_polars`, :meth:`from_parquet`, :meth:`from_texts`
    or :meth:`from_token_ids`, or from word counts with :meth:`from_bow`,
    :meth:`from_gensim`, :meth:`from_vowpal_wabbit` or :meth:`from_uci`, not with the
    constructor. A corpus built from counts is a bag of words (:attr:`word_order` is False).

    Examples
    --------
    >>> corpus = Corpus.from_texts(["The cat sat. The cat ran!", "A dog."])
    >>> corpus.n_documents, corpus.n_tokens, corpus.vocabulary.words
    (2, 5, ['cat', 'dog', 'ran', 'sat'])
    """

    # Text to tokens.
    from_polars = classmethod(_texts.from_polars)
    from_parquet = classmethod(_texts.from_parquet)
    from_texts = classmethod(_texts.from_texts)
    _from_text_series = classmethod(_texts.from_text_series)
    scan_parquet = classmethod(streaming.scan_parquet)
    # Array inputs.
    from_token_ids = classmethod(_token_ids.from_token_ids)
    # Bag-of-words inputs (count matrices, gensim, BigARTM's files).
    from_bow = classmethod(_bow.from_bow)
    from_gensim = classmethod(_bow.from_gensim)
    from_vowpal_wabbit = classmethod(_bow.from_vowpal_wabbit)
    from_uci = classmethod(_bow.from_uci)
