"""Type stubs of ``attartm._core``, the compiled Rust binding (rust/python/src/lib.rs).

Every function checks its arguments and raises ``ValueError`` / ``TypeError`` on bad input
(a panic inside the core becomes ``RuntimeError``); the GIL is released while it computes.
Array arguments must already have the exact dtype and be C-contiguous: the friendly,
converting wrappers are in :mod:`attartm.kernels`.

Token ids are ``uint32`` and are read in place from a 1-D numpy array or from any Arrow
array (a polars Series, a pyarrow array or chunked array: anything that implements
``__arrow_c_stream__`` or ``__arrow_c_array__``). ``doc_offsets`` holds D+1 ``int64``
values starting at 0, non-decreasing and ending at the number of tokens.
"""

from collections.abc import Sequence
from typing import Any, Literal, Protocol, SupportsFloat, TypeAlias, overload

import numpy as np
from numpy.typing import NDArray

__version__: str
"""Version of the Rust crate the module was built from (the package version)."""

class _ArrowStream(Protocol):
    def __arrow_c_stream__(self, requested_schema: Any = None, /) -> Any: ...

class _ArrowArray(Protocol):
    def __arrow_c_array__(self, requested_schema: Any = None, /) -> tuple[Any, Any]: ...

_TokenIds: TypeAlias = NDArray[np.uint32] | _ArrowStream | _ArrowArray
"""uint32 token ids: a contiguous 1-D numpy array, or Arrow data read in place."""

_Offsets: TypeAlias = NDArray[np.int64]
"""int64[D+1] document offsets: document d is ``tokens[offsets[d]:offsets[d+1]]``."""

_Phi: TypeAlias = NDArray[np.float32]
"""float32[W, T] C-contiguous Φ = p(w|t): finite, non-negative (every entry is checked
unless ``checked_phi=True``, which a model passes for the Φ it checked when it changed)."""

_FragmentRequest: TypeAlias = tuple[Sequence[int] | None, int, int, int, float]
"""(topics or None for all of them, k, min_tokens, max_tokens, threshold)."""

_Accumulate: TypeAlias = Literal["none", "dense", "rows", "into"]
"""What an E-step does with ñ_wt: nothing (None is returned), a float64[W, T] matrix, the
rows of the touched words only (a pair uint32[U] increasing word ids, float64[U, T]), or
``into`` += ``weight`` · ñ_wt in place (``into``: a writable C-contiguous float64[W, T];
returned is the change of its column sums, (Δ Σ_w, Δ Σ_w max(·, 0)) as two float64[T])."""

_Sums: TypeAlias = (
    NDArray[np.float64]
    | tuple[NDArray[np.uint32], NDArray[np.float64]]
    | tuple[NDArray[np.float64], NDArray[np.float64]]
    | None
)

def artm_estep(
    words: _TokenIds,
    doc_offsets: _Offsets,
    phi: _Phi,
    *,
    counts: NDArray[np.float32] | None = None,
    doc_passes: int = 10,
    theta_term: Sequence[SupportsFloat] | None = None,
    theta_scale: Sequence[SupportsFloat] | None = None,
    accumulate: _Accumulate = "dense",
    into: NDArray[np.float64] | None = None,
    weight: float = 1.0,
    checked_phi: bool = False,
    threads: int | None = None,
) -> tuple[NDArray[np.float32], _Sums]:
    """The classic ARTM E-step (docs/mathematics.md §1) over every document.

    ``counts`` (float32[n], finite, ≥ 0) are the occurrence counts of a bag of words (1
    each when omitted); ``theta_term`` (T numbers) is θ_td ∂R/∂θ_td added to n_td, after
    n_td is multiplied per topic by ``theta_scale`` (T numbers) when given.
    Returns ``(theta, n_wt)``: float32[D, T] p(t|d) and ñ_wt as ``accumulate`` asks.
    """

def bag_of_words(
    tokens: _TokenIds,
    doc_offsets: _Offsets,
    *,
    threads: int | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.uint32], NDArray[np.float32]]:
    """Each document's distinct words (increasing id) and their counts.

    Returns ``(offsets, words, counts)``: int64[D+1] offsets into uint32 ``words`` and
    float32 ``counts``.
    """

@overload
def attentive_estep(
    tokens: _TokenIds,
    doc_offsets: _Offsets,
    phi: _Phi,
    n_t: NDArray[np.float32],
    *,
    gamma_forward: float | NDArray[np.float32],
    gamma_backward: float | NDArray[np.float32],
    beta: float,
    passes: int,
    exclude_self: bool,
    filter: Literal["p/n_t", "phi"] = "p/n_t",
    reset: NDArray[np.float32] | None = None,
    document_weight: float = 0.0,
    tempering: float = 1.0,
    document_prior: NDArray[np.float32] | None = None,
    context_prior: tuple[float, float] | None = None,
    output: Literal["tokens", "contexts", "loglik", "doc_mean"] = "tokens",
    top: int = 1,
    accumulate: _Accumulate = "dense",
    into: NDArray[np.float64] | None = None,
    weight: float = 1.0,
    checked_phi: bool = False,
    threads: int | None = None,
    long_document: int | None = None,
    fragments: _FragmentRequest | None = None,
) -> tuple[NDArray[np.float32], _Sums]:
    """The localized E-step of Attentive ARTM (docs/mathematics.md §3) over a token stream.

    ``n_t`` (float32[T], ≥ 0) are the topic masses; ``gamma_forward`` and
    ``gamma_backward`` (in [0, 1]) the smoothing coefficients: a float for every position,
    or float32[n], one per position; ``beta`` in [0, 1] the weight of the left context;
    ``passes`` ≥ 1; ``document_prior`` (float32[D, T], rows ≥ 0 summing to μ_d ≤ 1) the
    vector P_d of each document's other modalities: θ_i = (1 − μ_d) θ_i^text + P_d (§7.3);
    ``context_prior`` (x, y ≥ 0) the prior on the text's contexts when ``n_wt`` is
    accumulated: θ_i^text = (1 − ε_i) θ_i^text + ε_i/T, ε_i = 1/(1 + x|F_i| + y|B_i|) (§3).

    Returns ``(values, n_wt)``. ``values`` depends on ``output``:

    - "tokens": float32[n, T], p(t|C_i, w_i) after the last pass;
    - "contexts": float32[n, 2T+2], F_i/|F_i| and B_i/|B_i| (zero where a side is empty),
      then the effective number of tokens of the left and of the right context;
    - "loglik": float32[n], ln Σ_t φ_{w_i t} θ_it;
    - "doc_mean": float32[D, T], the mean p_i of every document;
    - "top": a pair (uint16[n, top] topics best first, float32[n, top] their
      probabilities), with 1 <= top <= T;
    - "none": None.

    ``n_wt`` is ñ_wt as ``accumulate`` asks. ``long_document`` (for tests): documents
    longer than this many tokens run a block at a time (default: the core's rule, 4,096
    tokens in one pass, rows of 16 MiB in more); the results are the same for any value
    (docs/mathematics.md §3, "Long documents").
    """

@overload
def attentive_estep(
    tokens: _TokenIds,
    doc_offsets: _Offsets,
    phi: _Phi,
    n_t: NDArray[np.float32],
    *,
    gamma_forward: float | NDArray[np.float32],
    gamma_backward: float | NDArray[np.float32],
    beta: float,
    passes: int,
    exclude_self: bool,
    filter: Literal["p/n_t", "phi"] = "p/n_t",
    reset: NDArray[np.float32] | None = None,
    document_weight: float = 0.0,
    tempering: float = 1.0,
    document_prior: NDArray[np.float32] | None = None,
    context_prior: tuple[float, float] | None = None,
    output: Literal["none"],
    top: int = 1,
    accumulate: _Accumulate = "dense",
    into: NDArray[np.float64] | None = None,
    weight: float = 1.0,
    checked_phi: bool = False,
    threads: int | None = None,
    long_document: int | None = None,
    fragments: _FragmentRequest | None = None,
) -> tuple[None, _Sums]: ...
@overload
def attentive_estep(
    tokens: _TokenIds,
    doc_offsets: _Offsets,
    phi: _Phi,
    n_t: NDArray[np.float32],
    *,
    gamma_forward: float | NDArray[np.float32],
    gamma_backward: float | NDArray[np.float32],
    beta: float,
    passes: int,
    exclude_self: bool,
    filter: Literal["p/n_t", "phi"] = "p/n_t",
    reset: NDArray[np.float32] | None = None,
    document_weight: float = 0.0,
    tempering: float = 1.0,
    document_prior: NDArray[np.float32] | None = None,
    context_prior: tuple[float, float] | None = None,
    output: Literal["top"],
    top: int = 1,
    accumulate: _Accumulate = "dense",
    into: NDArray[np.float64] | None = None,
    weight: float = 1.0,
    checked_phi: bool = False,
    threads: int | None = None,
    long_document: int | None = None,
    fragments: _FragmentRequest | None = None,
) -> tuple[tuple[NDArray[np.uint16], NDArray[np.float32]], _Sums]: ...
@overload
def attentive_estep(
    tokens: _TokenIds,
    doc_offsets: _Offsets,
    phi: _Phi,
    n_t: NDArray[np.float32],
    *,
    gamma_forward: float | NDArray[np.float32],
    gamma_backward: float | NDArray[np.float32],
    beta: float,
    passes: int,
    exclude_self: bool,
    filter: Literal["p/n_t", "phi"] = "p/n_t",
    reset: NDArray[np.float32] | None = None,
    document_weight: float = 0.0,
    tempering: float = 1.0,
    document_prior: NDArray[np.float32] | None = None,
    context_prior: tuple[float, float] | None = None,
    output: Literal["fragments"],
    top: int = 1,
    accumulate: _Accumulate = "dense",
    into: NDArray[np.float64] | None = None,
    weight: float = 1.0,
    checked_phi: bool = False,
    threads: int | None = None,
    long_document: int | None = None,
    fragments: _FragmentRequest | None = None,
) -> tuple[
    tuple[
        NDArray[np.int64],
        NDArray[np.int64],
        NDArray[np.int64],
        NDArray[np.int64],
        NDArray[np.float64],
    ],
    None,
]:
    """``output="fragments"`` (which needs ``accumulate="none"`` and ``fragments``;
    ``ValueError`` otherwise): the fragments of topics of
    docs/mathematics.md §9 from one run, ``fragments=(topics or None for all, k,
    min_tokens, max_tokens, threshold)``; returns ((topic, doc, start, end, score), None),
    one entry per fragment, grouped by topic in the order asked for, best first."""

@overload
def attentive_estep(
    tokens: _TokenIds,
    doc_offsets: _Offsets,
    phi: _Phi,
    n_t: NDArray[np.float32],
    *,
    gamma_forward: float | NDArray[np.float32],
    gamma_backward: float | NDArray[np.float32],
    beta: float,
    passes: int,
    exclude_self: bool,
    filter: str = "p/n_t",
    reset: NDArray[np.float32] | None = None,
    document_weight: float = 0.0,
    tempering: float = 1.0,
    document_prior: NDArray[np.float32] | None = None,
    context_prior: tuple[float, float] | None = None,
    output: str = "tokens",
    top: int = 1,
    accumulate: _Accumulate = "dense",
    into: NDArray[np.float64] | None = None,
    weight: float = 1.0,
    checked_phi: bool = False,
    threads: int | None = None,
    long_document: int | None = None,
    fragments: _FragmentRequest | None = None,
) -> tuple[Any, _Sums]: ...
def thetaless_estep(
    words: _TokenIds,
    doc_offsets: _Offsets,
    phi: _Phi,
    n_t: NDArray[np.float32],
    *,
    counts: NDArray[np.float32] | None = None,
    variant: Literal["full", "naive"] = "full",
    modality_starts: Sequence[int] | None = None,
    accumulate: _Accumulate = "dense",
    into: NDArray[np.float64] | None = None,
    weight: float = 1.0,
    checked_phi: bool = False,
    threads: int | None = None,
) -> _Sums:
    """The Θ-less E-step (docs/mathematics.md §2): ñ_wt = Σ_d n_dw p'_tdw as ``accumulate`` asks.

    ``variant="full"`` uses the modified p'_tdw, ``"naive"`` uses p' = p. With
    ``modality_starts`` (the first row of Φ of each of M modalities, 0 first) ``n_t`` holds
    M×T masses, row by row, and p(t|w) reads the row of w's modality (§7.2).
    """

def linear_theta(
    words: _TokenIds,
    doc_offsets: _Offsets,
    phi: _Phi,
    n_t: NDArray[np.float32],
    *,
    counts: NDArray[np.float32] | None = None,
    modality_starts: Sequence[int] | None = None,
    checked_phi: bool = False,
    threads: int | None = None,
) -> NDArray[np.float32]:
    """Linear topicization θ_td = Σ_w (n_dw / n_d) p(t|w): float32[D, T];
    ``modality_starts`` as in :func:`thetaless_estep`."""

def bags_estep(
    words: _TokenIds,
    doc_offsets: _Offsets,
    phi: _Phi,
    theta: NDArray[np.float32],
    *,
    counts: NDArray[np.float32] | None = None,
    tempering: float = 1.0,
    accumulate: _Accumulate = "dense",
    into: NDArray[np.float64] | None = None,
    weight: float = 1.0,
    checked_phi: bool = False,
    threads: int | None = None,
) -> tuple[NDArray[np.float32], _Sums]:
    """The E-step of document-level modalities under given θ (docs/mathematics.md §7.3):
    p_tdw = norm_t(φ_wt θ_td) for every entry of ``theta`` (float32[D, T], ≥ 0)'s
    documents. Returns ``(n_td, n_wt)``: float32[D, T] Σ_w c_dw p_tdw and
    ñ_wt = Σ c_dw norm_t(p_tdw^κ) (κ = ``tempering`` in (0, 1]) as ``accumulate`` asks."""

def window_counts(
    tokens: _TokenIds,
    doc_offsets: _Offsets,
    words: NDArray[np.uint32],
    pairs: NDArray[np.uint32],
    *,
    n_vocabulary: int,
    window: int | None = None,
    sliding: Literal["gensim", "exact"] = "gensim",
    threads: int | None = None,
) -> tuple[int, NDArray[np.uint64], NDArray[np.uint64]]:
    """Coherence statistics in one pass: (number of windows, windows holding each of
    ``words``, windows holding both words of each pair). ``pairs`` is flat: two indices
    into ``words`` per pair. ``window=None``: each document is one window."""

_Texts: TypeAlias = _ArrowStream | _ArrowArray
"""A column of texts read in place: Arrow Utf8, LargeUtf8, Utf8View or Null data (a polars
String Series, a pyarrow string array or chunked array); a null text is an empty one."""

class Tokenizer:
    """Words to token ids for one vocabulary (word i gets id i) and stopword list, by the
    rules of ``tests/tokenize_reference.py``: lowercase, words ``\\p{L}[\\p{L}\\p{M}]*``,
    sentence ends and paragraph breaks as boundary levels, stopwords dropped before the
    vocabulary applies (a stopword is dropped even when the vocabulary has it).

    Raises ``ValueError`` if a vocabulary word occurs twice.
    """

    def __init__(self, vocabulary: Sequence[str], stopwords: Sequence[str]) -> None: ...
    def __len__(self) -> int:
        """The number of vocabulary words."""

    def tokenize(
        self, texts: _Texts, *, threads: int | None = None
    ) -> tuple[NDArray[np.uint32], NDArray[np.int64], NDArray[np.uint8], NDArray[np.int64]]:
        """``(token_ids, doc_offsets, boundaries, unknown)``: uint32[N] ids, int64[D+1]
        offsets, uint8[N] boundary levels (0 none, 1 sentence, 2 paragraph: the largest
        marker between the previous kept word of the document and this one, 0 for its
        first) and int64[D] words per document dropped as unknown. ``ValueError`` if a
        text is not valid UTF-8."""

    def tokenize_spans(
        self, texts: _Texts, *, threads: int | None = None
    ) -> tuple[
        NDArray[np.uint32],
        NDArray[np.int64],
        NDArray[np.uint8],
        NDArray[np.int64],
        NDArray[np.int64],
        NDArray[np.int64],
    ]:
        """``tokenize``'s four arrays and ``(starts, ends)``, int64[N] each: token i was
        read from characters ``starts[i]:ends[i]`` of its text (Python string indices,
        Unicode scalar values), the characters it was lowercased from."""

    def token_lists(self, texts: _Texts, *, threads: int | None = None) -> _ArrowArray:
        """The token ids of each text as an Arrow ``LargeList<UInt32>`` array (pass it to
        ``pl.Series``)."""

class WordCounter:
    """Word occurrences and document frequencies over batches of texts (stopwords left
    out), for a vocabulary built in one streaming pass; memory grows with the number of
    distinct words only."""

    def __init__(self, stopwords: Sequence[str]) -> None: ...
    @property
    def n_documents(self) -> int:
        """Texts counted so far."""

    @property
    def n_words(self) -> int:
        """Words counted so far (stopwords left out)."""

    def __len__(self) -> int:
        """Distinct words counted so far."""

    def update(self, texts: _Texts, *, threads: int | None = None) -> None:
        """Counts the words of a batch of texts."""

    def most_frequent(
        self, min_docs: float, max_docs: float, max_words: int | None = None
    ) -> list[str]:
        """The words found in ``min_docs`` to ``max_docs`` documents, by count descending,
        ties in code point order; at most ``max_words`` of them."""

def distinct_words(tokens: _TokenIds, n_words: int) -> NDArray[np.uint32]:
    """The distinct ids of ``tokens`` (each below ``n_words``) in increasing order."""

def row_sums(
    n_wt: NDArray[np.float64], rows: NDArray[np.uint32]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Σ over ``rows`` of n_wt and of max(n_wt, 0): two float64[T] (rows added in order)."""

def add_rows(
    n_wt: NDArray[np.float64],
    words: NDArray[np.uint32],
    rows: NDArray[np.float64],
    weight: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """n_wt[words[k]] += weight · rows[k] in place (n_wt C-contiguous float64[W, T]);
    returns the change of n_wt's column sums, (Δ Σ_w, Δ Σ_w max(·, 0)) as two float64[T]."""

def refresh_rows(
    phi: NDArray[np.float32],
    n_wt: NDArray[np.float64],
    positive: NDArray[np.float64],
    rows: NDArray[np.uint32],
    *,
    block_rows: int | None = None,
    stamps: NDArray[np.int64] | None = None,
    version: int | None = None,
    threads: int | None = None,
    save_into: NDArray[np.float64] | None = None,
) -> None:
    """φ_wt = max(n_wt, 0) / positive_t in place for the given rows, which must be
    increasing (1/block_rows where positive_t ≤ 0, ``block_rows`` being the rows of the
    modality these rows belong to, all of n_wt when None; below float32's normal range,
    0). With ``stamps`` (one per row of Φ) and ``version``, only the rows whose stamp is
    not the version are refreshed, and stamped with it. ``save_into`` (len(rows)×T), when
    given, receives a copy of every given row of n_wt, read in the same pass."""
