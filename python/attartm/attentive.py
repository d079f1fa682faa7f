"""Attentive ARTM: the localized E-step of docs/mathematics.md §3, with token-level outputs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from . import _arrays, kernels
from . import regularizers as _reg
from ._attention import boundary_strengths, coefficient, plain_weights
from ._document_prior import DocumentModalities, DocumentPrior
from ._heldout import Evaluation
from ._inference import InferenceContexts, passes_setting, weight_setting, window_setting
from ._model import TopicModel
from .corpus import Corpus
from .fragments import TopicFragments
from .phrases import TopicPhrases
from .segments import between_positions, evidence_scores, find_segments


class Data(NamedTuple):
    """What the E-step reads of a corpus: the text, and its other modalities (or None)."""

    corpus: Corpus
    modalities: DocumentModalities | None


class AttentiveARTM(InferenceContexts, TopicFragments, TopicPhrases, TopicModel):
    """Attentive ARTM: every token position gets its own topic vector from its left and
    right context, two exponential moving averages along the text repeated ``passes``
    times (attention blocks without parameters).

    Parameters
    ----------
    n_topics : int
        Number of topics T.
    passes : int
        Number of passes L of the localized E-step.
    beta : float
        Weight of the left context (1 − beta for the right one), in [0, 1].
    window, gamma : float
        Context length h in tokens (γ = 1/h), or γ itself; default window 10.
    window_backward, gamma_backward : float, optional
        The same for the right context (asymmetric windows); default: as forward.
    inference_window : "auto", float or None
        The context length (both ways) of inference: ``transform``, ``transform_tokens``,
        ``contexts``, perplexity and scores. ``"auto"`` (default): chosen at the end of
        every training call as the window that maximizes the document-completion
        likelihood of a sample of the training documents (docs/mathematics.md §5.1),
        kept in ``inference_window_``; a number: that window; None: the training windows.
    inference_passes : "auto", int or None
        The passes of inference, chosen likewise from 1 to 4 (``inference_passes_``)
        under "auto" (default); a number: those passes; None: ``passes``.
    inference_document_weight : "auto", float or None
        The weight λ of the document head in inference, chosen likewise from
        {0, 0.05, 0.1, 0.2, 0.3, 0.5} (``inference_document_weight_``) under "auto"
        (default); a number in [0, 1]: that weight; None: ``document_weight``.
    boundaries : mapping
        Reset strength per boundary level recorded by the corpus, e.g.
        ``{"sentence": 0.0, "paragraph": 1.0}``: both contexts carried across such a
        boundary are multiplied by 1 − strength (1 = a full reset, exactly like a document
        boundary; 0 = ignored). A document start always resets fully.
    token_weight : array of W floats in [0, 1], or mapping word -> weight, optional
        Multiplies γ of each token (0: the token never enters a context, e.g. stopwords).
    exclude_self : bool
        Position i reads F_{i−1} and B_{i+1}: a token never sees itself (default; including
        it collapses the model to word clusters).
    filter : {"p/n_t", "phi"}
        How the context refines p_i.
    document_weight : float
        Weight λ of the document head: θ_i = (1 − λ) θ_i^local + λ (mean p of the
        document's other positions). 0: local contexts only.
    tempering : float
        κ ∈ (0, 1] of tempered EM: the M-step counts norm_t(p_i^κ) instead of p_i; below 1
        it gives topics whose words share contexts broadly (more coherent top words) for
        a little perplexity. 1: plain EM.
    context_prior : float
        Mass m ≥ 0, in tokens, of a symmetric Dirichlet prior on the context of every
        position in training: θ_i = (N_i θ_i + m/T)/(N_i + m), with N_i the tokens its two
        moving averages hold (docs/mathematics.md §3), so that a context may admit a
        topic it lacks, as LDA's α does, most where it holds few tokens. 1 is a prior
        worth one token (Perks's α = 1/T); 0 (the default): none. Inference is not
        smoothed. It did not win on the validation splits of three corpora on average
        (docs/research.md §4), so it is off by default.
    epochs : int
        Passes over the corpus that ``fit`` makes by default.
    updates_per_epoch : int
        Stepwise EM: ``fit`` updates Φ after each of this many batches of a pass (1:
        offline EM, one M-step per pass); more updates converge in fewer passes.
    background_topics, regularizers, modality_weights, seed, threads
        As for :class:`attartm.ARTM`. The text is read as a sequence; the other
        modalities are bags of the whole document that enter every position's context
        with their share of the document's weighted tokens (docs/mathematics.md §7.3).

    The defaults (L = 2, window 10, κ = 0.7, 50 updates per epoch, 75 epochs, inference
    contexts chosen by held-out likelihood) are the recipe chosen on a validation split
    of 20 Newsgroups and checked on Reuters and Wikipedia (docs/research.md); every knob
    stays available.
    """

    _kind = "attentive"
    #: The window used when neither ``window`` nor ``gamma`` is given.
    DEFAULT_WINDOW: float = 10.0

    def __init__(
        self,
        n_topics: int,
        passes: int = 2,
        beta: float = 0.5,
        window: float | None = None,
        gamma: float | None = None,
        window_backward: float | None = None,
        gamma_backward: float | None = None,
        inference_window: float | str | None = "auto",
        inference_passes: int | str | None = "auto",
        inference_document_weight: float | str | None = "auto",
        boundaries: Mapping[str, float] | None = None,
        token_weight: Any = None,
        exclude_self: bool = True,
        filter: str = "p/n_t",
        document_weight: float = 0.0,
        tempering: float = 0.7,
        context_prior: float = 0.0,
        epochs: int = 75,
        updates_per_epoch: int = 50,
        background_topics: Iterable[int] = (),
        regularizers: Iterable[_reg.Regularizer] = (),
        modality_weights: Mapping[str, float] | None = None,
        seed: int = 0,
        threads: int | None = None,
    ) -> None:
        super().__init__(
            n_topics, epochs=epochs, updates_per_epoch=updates_per_epoch,
            background_topics=background_topics, regularizers=regularizers,
            modality_weights=modality_weights, seed=seed, threads=threads,
        )  # fmt: skip
        self.passes = passes
        self.beta = beta
        self.window = window
        self.gamma = gamma
        self.window_backward = window_backward
        self.gamma_backward = gamma_backward
        self.inference_window = inference_window
        self.inference_passes = inference_passes
        self.inference_document_weight = inference_document_weight
        self.boundaries = boundaries
        self.token_weight = token_weight
        self.exclude_self = exclude_self
        self.filter = filter
        self.document_weight = document_weight
        self.tempering = tempering
        self.context_prior = context_prior

    def _validated(self) -> dict[str, Any]:
        params = super()._validated()
        if any(isinstance(r, _reg.ThetaRegularizer) for r in params["regularizers"]):
            raise ValueError(
                "AttentiveARTM has no Θ (topic vectors are per position): Θ regularizers "
                "such as SmoothSparseTheta cannot be used with it"
            )
        unit = {"beta": (0.0, True), "document_weight": (0.0, True), "tempering": (0.0, False)}
        for name, (low, closed) in unit.items():
            value = _arrays.finite_float(name, getattr(self, name))
            if not (low <= value if closed else low < value) or value > 1.0:
                interval = "[0, 1]" if closed else "(0, 1]"
                raise ValueError(f"{name} must lie in {interval}, but is {value}")
            params[name] = value
        prior = _arrays.finite_float("context_prior", self.context_prior)
        if prior < 0:
            raise ValueError(f"context_prior must be at least 0 (tokens), but is {prior}")
        params["context_prior"] = prior
        if self.filter not in ("p/n_t", "phi"):
            raise ValueError(f'filter must be "p/n_t" or "phi", not {self.filter!r}')
        # Plain Python numbers, so that numpy or polars scalars in a grid still save as JSON.
        as_float = lambda v, name: None if v is None else _arrays.finite_float(name, v)  # noqa: E731
        self._gammas  # noqa: B018 (checks the windows and γ)
        return {
            **params,
            "passes": _arrays.positive_int("passes", self.passes),
            **{
                name: as_float(getattr(self, name), name)
                for name in ("window", "gamma", "window_backward", "gamma_backward")
            },
            "inference_window": window_setting(self.inference_window),
            "inference_passes": passes_setting(self.inference_passes),
            "inference_document_weight": weight_setting(self.inference_document_weight),
            "boundaries": self._boundaries,
            "token_weight": plain_weights(self.token_weight),
            "exclude_self": bool(self.exclude_self),
            "filter": self.filter,
        }

    @property
    def _gammas(self) -> tuple[float, float]:
        """γ→ and γ← from the windows or γ given (a window of 10 tokens when neither is);
        the backward one defaults to the forward one."""
        window = self.DEFAULT_WINDOW if self.window is None and self.gamma is None else self.window
        forward = coefficient("", window, self.gamma)
        backward = coefficient("_backward", self.window_backward, self.gamma_backward)
        return forward, backward or forward

    @property
    def _context_prior_scales(self) -> tuple[float, float] | None:
        """(x, y) of the kernel's context prior, ε_i = 1/(1 + x|F_i| + y|B_i|): the windows
        h = 1/γ over the prior's mass m, since h|F_i| is the number of tokens F_i holds
        (docs/mathematics.md §3); None without a prior."""
        mass = float(self.context_prior)
        if mass <= 0:
            return None
        forward, backward = self._gammas
        return 1.0 / (forward * mass), 1.0 / (backward * mass)

    @property
    def _boundaries(self) -> dict[str, float]:
        """The reset strength of every boundary level (0 for those not given)."""
        return boundary_strengths(self.boundaries)

    # ---------------------------------------------------------------- the E-step
    def _word_weights(self) -> np.ndarray | None:
        weight = plain_weights(self.token_weight)
        if weight is None:
            return None
        n_words = len(self._vocabulary)
        if isinstance(weight, Mapping):
            out = np.ones(n_words, dtype=np.float32)
            for word, value in weight.items():
                if word in self._vocabulary:
                    out[self._vocabulary.index(word)] = value
        else:
            out = _arrays.vector("token_weight", weight, n_words)
        if not ((out >= 0) & (out <= 1)).all():
            raise ValueError("token_weight values must lie in [0, 1]")
        return out

    def gammas(self, corpus: Corpus, window: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """γ→ and γ← of every position of ``corpus`` in training (float32[n] each);
        ``window`` replaces the model's windows in both directions."""
        gf, gb = (
            np.full(corpus.n_tokens, g, dtype=np.float32) if isinstance(g, float) else g
            for g in self._kernel_gammas(corpus, window)
        )
        return gf, gb

    def _kernel_gammas(
        self, corpus: Corpus, window: float | None = None
    ) -> tuple[float | np.ndarray, float | np.ndarray]:
        """What the kernel reads for :meth:`gammas`: one float per direction when every
        position has the same γ (no token weights), which costs no memory per token; else
        the vectors."""
        forward, backward = self._gammas if window is None else (1.0 / window,) * 2
        weights = self._word_weights()
        if weights is None:
            return forward, backward
        w = weights[corpus.token_ids]
        return np.float32(forward) * w, np.float32(backward) * w

    def resets(self, corpus: Corpus) -> np.ndarray | None:
        """Reset strength of the boundary before every position (float32[n]), from the
        corpus's boundary levels and ``boundaries``; None when no level resets. A
        paragraph start is a sentence start too, so it gets the larger of both strengths."""
        boundaries = self._boundaries
        sentence = boundaries["sentence"]
        paragraph = max(boundaries["paragraph"], sentence)
        if sentence <= 0.0 and paragraph <= 0.0:
            return None
        strength = np.array([0.0, sentence, paragraph], dtype=np.float32)
        return strength[np.minimum(corpus.boundaries, 2)]

    def _run(self, corpus: Corpus, output: str, *, gammas=None, passes: int | None = None,
             document_weight: float | None = None, top: int = 1,
             n_t: np.ndarray | None = None, accumulate: bool | str = False, into=None,
             weight: float = 1.0, prior: DocumentPrior | None = None,
             fragments: tuple | None = None,
             context_prior: tuple[float, float] | None = None):  # fmt: skip
        """The kernel over ``corpus``; the contexts of inference (``gammas``, ``passes``
        and ``document_weight`` not given) or those given, and the other modalities'
        ``prior``."""
        if document_weight is None:
            document_weight = self._inference_document_weight
        gf, gb = self._kernel_gammas(corpus, self._inference_window) if gammas is None else gammas
        return kernels._attentive_run(
            corpus.token_ids, corpus.doc_offsets, self._phi,
            self._topic_mass() if n_t is None else n_t, gamma_forward=gf, gamma_backward=gb,
            beta=self.beta, passes=self._inference_passes if passes is None else passes,
            exclude_self=bool(self.exclude_self),
            filter=self.filter, reset=self.resets(corpus),
            document_weight=document_weight, tempering=self.tempering,
            document_prior=None if prior is None else prior.vectors, output=output, top=top,
            accumulate=accumulate, into=into, weight=weight, threads=self.threads,
            checked_phi=True, fragments=fragments, context_prior=context_prior,
        )  # fmt: skip

    def _check_corpus(self, corpus: Any, *, fitted: bool = True) -> Corpus:
        corpus = super()._check_corpus(corpus, fitted=fitted)
        if not corpus.word_order:
            # Contexts are the tokens before and after each position: a bag has none.
            raise ValueError(
                "AttentiveARTM reads word order, and this corpus is a bag of words (built "
                "from counts: from_bow, from_gensim, from_vowpal_wabbit or from_uci); build "
                "it from the texts (Corpus.from_texts / from_polars), or use ARTM or "
                "ThetalessARTM"
            )
        return corpus

    def _prepare(self, corpus: Corpus) -> Data:
        return Data(corpus, DocumentModalities.of(self._layout, corpus, (), self.threads))

    def _words_of(self, data: Data) -> np.ndarray:
        if data.modalities is None:
            return data.corpus.token_ids
        return np.concatenate([data.corpus.token_ids, data.modalities.bow.words])

    def _estep(self, data: Data, n_t: np.ndarray, accumulate: bool | str = True,
               into=None, weight: float = 1.0) -> Any:  # fmt: skip
        corpus, modalities = data
        # n_t of every modality (M×T), or of the text alone (T, as a Ray task passes it).
        n_t = np.atleast_2d(n_t)
        training = {
            "gammas": self._kernel_gammas(corpus),
            "passes": self.passes,
            "document_weight": self.document_weight,
            "n_t": n_t[0],
            "context_prior": self._context_prior_scales,
        }
        text_weight = self._layout.weights[0]
        if modalities is None:
            sums = {"accumulate": accumulate, "into": into, "weight": weight * text_weight}
            return self._run(corpus, "none", **training, **sums)[1]
        if accumulate == "rows":
            raise ValueError("the E-step over several modalities adds into n_wt or a dense ñ_wt")
        sums = {"accumulate": accumulate, "into": into}
        prior = self._prior(corpus, modalities)
        mean_p, text = self._run(
            corpus, "doc_mean", **training, prior=prior, **sums, weight=weight * text_weight
        )
        bow = modalities.bow
        _, other = kernels._bags_estep(
            bow.words, bow.offsets, self._phi, prior.theta(mean_p), counts=bow.counts,
            tempering=self.tempering, **sums, weight=weight, threads=self.threads,
            checked_phi=True,
        )  # fmt: skip
        if isinstance(text, tuple):  # the changes of n_wt's column sums
            return tuple(a + b for a, b in zip(text, other))
        return text + other

    def _prior(
        self, corpus: Corpus, modalities: DocumentModalities | None = None,
        exclude: tuple[str, ...] = (), observed: Evaluation | None = None,
    ) -> DocumentPrior | None:  # fmt: skip
        """P_d and μ_d of the corpus's other modalities (docs/mathematics.md §7.3), from the
        text's tokens (the observed ones when given); None when it has none."""
        if modalities is None:
            modalities = DocumentModalities.of(self._layout, corpus, exclude, self.threads)
            if modalities is None:
                return None
        tokens, offsets = (
            (corpus.token_ids, corpus.doc_offsets)
            if observed is None
            else (observed.observed_tokens, observed.observed_offsets)
        )
        text_mass = self._layout.weights[0] * np.diff(offsets).astype(np.float64)
        return DocumentPrior.of(
            modalities, self._phi, self._linear_theta(tokens, offsets), text_mass, self.threads
        )

    def _theta_of(
        self, corpus: Corpus, exclude: tuple[str, ...] = (), text: Evaluation | None = None,
        training: bool = False,
    ) -> np.ndarray:  # fmt: skip
        prior = self._prior(corpus, exclude=exclude)
        # The other modalities' Φ was fitted against θ_d of the training contexts, so their
        # prediction reads those (docs/mathematics.md §7.3); the rest, the inference ones.
        contexts = (
            {"gammas": self._kernel_gammas(corpus), "passes": self.passes,
             "document_weight": self.document_weight}
            if training
            else {}
        )  # fmt: skip
        mean_p = self._run(corpus, "doc_mean", prior=prior, **contexts)[0]
        return mean_p if prior is None else prior.theta(mean_p)

    def _loglik(
        self, corpus: Corpus, ev: Evaluation, window: float | None = None,
        passes: int | None = None, document_weight: float | None = None,
    ) -> tuple[float, int]:  # fmt: skip
        # Unobserved tokens get γ = 0: they never enter a context, and each scored token
        # is scored with the context θ_i built from the observed tokens around it.
        gf, gb = self.gammas(corpus, window or self._inference_window)
        gf[~ev.observed_mask] = 0.0
        gb[~ev.observed_mask] = 0.0
        prior = self._prior(corpus, observed=ev)
        loglik, _ = self._run(
            corpus, "loglik", gammas=(gf, gb), passes=passes, document_weight=document_weight,
            prior=prior,
        )  # fmt: skip
        known = self._known_words()
        keep = ev.scored_mask & known[corpus.token_ids]
        values = np.maximum(loglik[keep].astype(np.float64), np.log(np.finfo(np.float64).tiny))
        return float(values.sum()), int(keep.sum())

    # ---------------------------------------------------------------- token outputs
    @staticmethod
    def _token_frame(corpus: Corpus, token_ids: bool = False) -> pl.DataFrame:
        # From the corpus's own columns (the document of every token is one) and repeats,
        # never indexing by every token: a gather over all tokens costs several times more.
        tokens = corpus.tokens
        offsets = corpus.doc_offsets
        start = np.repeat(offsets[:-1], np.diff(offsets))
        ids = tokens.get_column("token")
        return pl.DataFrame(
            {
                "id": corpus.ids.gather(tokens.get_column("doc")),
                "position": np.arange(corpus.n_tokens, dtype=np.int64) - start,
                "token": ids if token_ids else corpus.vocabulary.to_polars().gather(ids),
            }
        )

    def transform_tokens(
        self, corpus: Corpus, top: int | None = None, *, token_ids: bool = False
    ) -> pl.DataFrame:
        """p(t|C_i, w_i) of every position, as a long polars frame.

        Columns: ``id``, ``position`` (within the document), ``token`` (the word, or with
        ``token_ids=True`` its id in the vocabulary, UInt32) and ``p``, an
        ``Array(Float32, T)`` of the topic probabilities. With ``top=k``, instead of ``p``
        only the k best topics per token: ``topics`` (``Array(UInt16, k)``, best first) and
        ``probs`` (their probabilities), which is what a tagging job stores.
        """
        self._require_fitted()
        corpus = self._check_corpus(corpus)
        frame = self._token_frame(corpus, token_ids)
        prior = self._prior(corpus)
        if top is None:
            p = self._run(corpus, "tokens", prior=prior)[0]
            return frame.with_columns(pl.Series("p", p, dtype=pl.Array(pl.Float32, self.n_topics)))
        k = min(_arrays.positive_int("top", top), self.n_topics)
        (topics, probs), _ = self._run(corpus, "top", top=k, prior=prior)
        return frame.with_columns(
            pl.Series("topics", topics, dtype=pl.Array(pl.UInt16, k)),
            pl.Series("probs", probs, dtype=pl.Array(pl.Float32, k)),
        )

    def _contexts(self, corpus: Corpus, window: float | None = None):
        if window is not None and _arrays.finite_float("window", window) < 1:
            raise ValueError(f"window must be at least 1 token, but is {window}")
        window = window or self._inference_window
        gammas = self._kernel_gammas(corpus, window)
        values, _ = self._run(corpus, "contexts", gammas=gammas, prior=self._prior(corpus))
        t = self.n_topics
        return values[:, :t], values[:, t : 2 * t], values[:, 2 * t], values[:, 2 * t + 1]

    def contexts(
        self, corpus: Corpus, window: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The normalized left and right contexts F_i/|F_i| and B_i/|B_i| of the last pass
        (float32[n, T] each; zero rows where a side is empty), with the model's window or
        the given one."""
        self._require_fitted()
        left, right, _, _ = self._contexts(self._check_corpus(corpus), window)
        return left, right

    def boundary_scores(self, corpus: Corpus, window: float | None = None) -> np.ndarray:
        """‖F_i/|F_i| − B_{i+1}/|B_{i+1}|‖₁ between positions i and i+1 (NaN at the last
        position of each document): a peak marks a topic change."""
        left, right = self.contexts(corpus, window)
        return between_positions(corpus.doc_offsets, np.abs(left[:-1] - right[1:]).sum(axis=1))

    def segments(
        self,
        corpus: Corpus,
        min_length: int = 20,
        threshold: float = 6.0,
        max_segments: int | None = None,
        window: float = 40,
    ) -> pl.DataFrame:
        """Topically homogeneous segments of every document.

        Cuts are placed at peaks of the boundary score ‖F_i/|F_i| − B_{i+1}/|B_{i+1}|‖₁,
        computed with contexts of ``window`` tokens and weighted by the evidence on both
        sides, √(n_F n_B / (n_F + n_B)) with n the effective number of tokens in each
        context (so that a difference between two contexts of a few tokens near a document
        edge does not outweigh one between two long contexts). The L1 distance lies in
        [0, 2], so with 40-token contexts a clear topic change scores about 6 to 8 and
        text of one topic about 3 to 4. Peaks must reach ``threshold`` and leave
        ``min_length`` tokens in every segment; the strongest come first, at most
        ``max_segments`` segments per document.

        Columns: id, start, end (inclusive positions), topic (main topic), weight (its
        probability) and the segment's topic vector ½(F_end + B_start) normalized.
        """
        self._require_fitted()
        corpus = self._check_corpus(corpus)
        min_length = _arrays.positive_int("min_length", min_length)
        threshold = _arrays.finite_float("threshold", threshold)
        max_cuts = (
            None if max_segments is None else _arrays.positive_int("max_segments", max_segments) - 1
        )
        left, right, n_left, n_right = self._contexts(corpus, window)
        scores = self.evidence_scores(left, right, n_left, n_right)
        return find_segments(
            corpus.ids, corpus.doc_offsets, left, right, scores, min_length, threshold,
            self.topic_names, max_cuts,
        )  # fmt: skip

    evidence_scores = staticmethod(evidence_scores)

    def segment_topic(self, corpus: Corpus, document: int, start: int, end: int) -> np.ndarray:
        """Topic vector of positions start..end (inclusive) of a document: ½(F_end + B_start)
        normalized."""
        self._require_fitted()
        offsets = corpus.doc_offsets
        if not 0 <= document < corpus.n_documents:
            raise ValueError(f"document must be in [0, {corpus.n_documents}), not {document}")
        length = int(offsets[document + 1] - offsets[document])
        if not 0 <= start <= end < length:
            raise ValueError(
                f"need 0 <= start <= end < {length} (document length), got {start}..{end}"
            )
        one = corpus.select([document])
        left, right = self.contexts(one)
        v = 0.5 * (left[end].astype(np.float64) + right[start])
        s = v.sum()
        return v / s if s > 0 else np.full(self.n_topics, 1.0 / self.n_topics)
