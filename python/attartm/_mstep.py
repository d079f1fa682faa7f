"""The M-step and the bookkeeping of n_wt: an update n_wt := δ n_wt + α ñ_wt costs
the rows its E-steps touch, not the vocabulary (docs/mathematics.md §4), and Φ follows,
every modality's block of rows normalized on its own (§7).

:class:`MStep` is a part of :class:`attartm.TopicModel`; it works on the model's state
(``_phi``, ``_n_wt`` and the counters that ``_reset_counts`` describes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from . import _core
from . import regularizers as _reg


def normalize_columns(x: np.ndarray) -> np.ndarray:
    """norm_w of docs/mathematics.md per column: max(x, 0) / Σ_w max(x, 0), uniform at 0."""
    x = np.maximum(x, 0.0)
    s = x.sum(axis=0, keepdims=True)
    out = np.divide(x, s, out=np.zeros_like(x), where=s > 0)
    out[:, (s[0] <= 0)] = 1.0 / x.shape[0]
    return out


# Rows per block of the regularized M-step: its temporaries are a few blocks, never W×T.
BLOCK_ROWS = 1024
# Below float32's normal range a probability is noise that only risks overflow later.
TINY = float(np.finfo(np.float32).tiny)


def random_phi(seed: int, n_words: int, n_topics: int) -> np.ndarray:
    """norm_w of a uniform random W×T matrix drawn from ``seed``, as float32, made a block
    of rows at a time (twice: the column sums first) so that no W×T float64 is held."""
    sums = np.zeros(n_topics)
    rng = np.random.default_rng(seed)
    for start in range(0, n_words, BLOCK_ROWS):
        sums += rng.random((min(BLOCK_ROWS, n_words - start), n_topics)).sum(axis=0)
    phi = np.empty((n_words, n_topics), dtype=np.float32)
    rng = np.random.default_rng(seed)
    for start in range(0, n_words, BLOCK_ROWS):
        block = rng.random((min(BLOCK_ROWS, n_words - start), n_topics))
        phi[start : start + block.shape[0]] = block / sums
    return phi


def column_change(
    changes: Iterable[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """The change of n_wt's column sums (Σ_w, Σ_w max(·, 0)) over several additions into
    it, from the change each reported."""
    total, positive = zip(*changes)
    return np.sum(total, axis=0), np.sum(positive, axis=0)


class SavedRows:
    """One buffer for copies of rows of n_wt that a training loop reuses from update to
    update (see :meth:`MStep._updating`): a new array per update costs new memory every
    time, and memory a process touches for the first time is slow to come by (on some
    virtual machines slower than the copy itself)."""

    def __init__(self) -> None:
        self._buffer: np.ndarray | None = None

    def rows(self, n_rows: int, n_topics: int) -> np.ndarray:
        """An n_rows×n_topics float64 view of the buffer (valid until the next call)."""
        buffer = self._buffer
        if buffer is None or buffer.shape[0] < n_rows or buffer.shape[1] != n_topics:
            buffer = self._buffer = np.empty((n_rows, n_topics))
        return buffer[:n_rows]


class MStep:
    """Updates of n_wt and the M-step φ = norm_w(n_wt + φ ∂R/∂φ) (docs/mathematics.md)."""

    #: The rows of the update in progress, whose rows of Φ ``_updating`` brought up to date.
    _updating_rows: np.ndarray | None = None

    def _update(self, decay: float, apply: float, words: np.ndarray, add) -> None:
        """n_wt := δ n_wt + α ñ_wt, then the M-step φ = norm_w(n_wt + φ ∂R/∂φ).

        ``words`` are the rows ñ_wt touches (uint32, increasing) and ``add(weight)`` adds
        weight · ñ_wt into ``_n_wt`` and returns how that changed its column sums (Σ_w and
        Σ_w max(·, 0), as the kernels report them). With n_wt = scale · _n_wt, δ only
        multiplies the scale and α ñ_wt enters as (α / scale) ñ_wt. Without Φ
        regularizers the M-step is then O(T): Φ's rows are brought up to date when an
        E-step is about to read them (``_current``). With them it is one in-place pass
        over Φ.
        """
        self._decay(decay)
        total, positive = add(apply / self._scale)
        self._n_t += np.reshape(total, self._n_t.shape)
        self._positive += np.reshape(positive, self._positive.shape)
        self._version += 1
        if self._phi_regularizers():
            self._regularized_mstep()

    @contextmanager
    def _updating(self, decay: float, words: np.ndarray, saved: SavedRows) -> Iterator[None]:
        """Around one ``_update(decay, ·, words, ·)``, whose E-steps read Φ's rows ``words``:
        brings them up to date on entering (before δ touches n_wt), and when anything
        raises inside (KeyboardInterrupt from a cancelled kernel, a failing regularizer)
        restores the state from before it, so the model is that of the completed updates.
        What it keeps costs the rows ``words`` of n_wt, or all of n_wt when the decay is
        applied in place (δ = 0: the old n_wt itself, the update writes a new one); the
        rows go into ``saved``'s buffer, which the training loop reuses from update to
        update, read in the pass that refreshes Φ's rows."""
        scale, version = self._scale, self._version
        n_t, positive = self._n_t.copy(), self._positive.copy()
        phi, stamp = self._phi, (self._stamp.copy() if self._phi_regularizers() else None)
        whole = rows = None
        if self._decays_in_place(decay):
            whole = self._n_wt if scale * decay == 0 else self._n_wt.copy()
        else:
            rows = saved.rows(len(words), self.n_topics)
        self._current(words, save_into=rows)
        self._updating_rows = words
        try:
            yield
        except BaseException:
            self._scale, self._version = scale, version
            self._n_t, self._positive = n_t, positive
            if whole is not None:
                self._n_wt = whole
            else:
                self._n_wt[words] = rows
            self._phi = phi
            if stamp is not None:
                self._stamp = stamp
            raise
        finally:
            self._updating_rows = None

    def _decays_in_place(self, decay: float) -> bool:
        scale = self._scale * decay
        return not (decay > 0 and 1e-150 < scale < 1e150)

    def _decay(self, decay: float) -> None:
        """n_wt := δ n_wt: on the scale alone, unless δ ≤ 0 or the scale would leave the
        range where _n_wt = n_wt / scale stays comfortably finite; then in place (at 0, a
        new zero n_wt, whose pages cost nothing until written: the old one is what
        ``_updating`` keeps)."""
        scale = self._scale * decay
        if not self._decays_in_place(decay):
            self._scale = scale
            return
        if scale == 0:
            self._n_wt = np.zeros(self._n_wt.shape)
        else:
            self._n_wt *= scale
        self._n_t *= scale
        if scale >= 0:
            self._positive *= scale
        else:
            everything = np.arange(self._n_wt.shape[0], dtype=np.uint32)
            self._positive = self._block_sums(everything)[1]
        self._scale = 1.0

    def _block_sums(self, rows: np.ndarray, first: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(Σ_w _n_wt, Σ_w max(_n_wt, 0)) over ``rows`` (uint32, increasing) of every
        modality's block from the ``first``-th on: two M×T arrays (zeros before it)."""
        total = np.zeros((len(self._layout.names), self.n_topics))
        positive = np.zeros_like(total)
        for m, block in enumerate(self._layout.blocks):
            if m < first:
                continue
            lo, hi = np.searchsorted(rows, [block.start, block.stop])
            if hi > lo:
                total[m], positive[m] = _core.row_sums(self._n_wt, rows[lo:hi])
        return total, positive

    def _current(
        self, words: np.ndarray | None = None, save_into: np.ndarray | None = None
    ) -> None:
        """Brings Φ's rows ``words`` (uint32, increasing; all when None) up to date with
        n_wt (see _update): the stale ones, whose stamp is not the version.

        ``save_into`` (len(words)×T) receives a copy of the rows ``words`` of n_wt, stale or
        not, read in the refresh's own pass.
        """
        if words is None:
            # Every row: only the stale ones need a look (a model made from Φ alone has
            # every row current and no column sums to refresh them with).
            words = np.flatnonzero(self._stamp != self._version).astype(np.uint32)
        for m, block in enumerate(self._layout.blocks):
            lo, hi = np.searchsorted(words, [block.start, block.stop])
            if hi > lo:
                _core.refresh_rows(
                    self._phi, self._n_wt, self._positive[m], words[lo:hi],
                    block_rows=block.stop - block.start, stamps=self._stamp,
                    version=self._version, threads=self.threads,
                    save_into=None if save_into is None else save_into[lo:hi],
                )  # fmt: skip

    def _sync(self) -> None:
        """Every row of Φ current and the scale folded into n_wt: the state outside
        training."""
        self._current()
        if self._scale != 1.0:
            self._n_wt *= self._scale
            self._n_t *= self._scale
            self._positive *= self._scale
            self._scale = 1.0

    def _finish(self) -> None:
        """The state after training: synced, and n_t the exact column sums of n_wt (the
        running sums of the updates differ from them by rounding), as a reloaded model
        computes them."""
        self._sync()
        self._n_t = self._block_totals()

    def _regularized_mstep(self) -> None:
        """φ = norm_w(n_wt + Σ φ ∂R/∂φ) for every modality's block of rows, each with the
        regularizers that act on it and normalized on its own (docs/mathematics.md §7).
        The terms read the old Φ, which stays as it is until the new one replaces it at
        the end: a failure midway leaves it whole."""
        regs = self._phi_regularizers()
        phi = np.empty_like(self._phi)
        layout = self._layout
        for name, vocabulary, block in zip(layout.names, layout.vocabularies, layout.blocks):
            mine = [r.for_vocabulary(vocabulary) for r in regs if r.acts_on(name)]
            self._mstep_block(block, mine, phi)
        self._phi = phi
        self._stamp[:] = self._version

    def _mstep_block(self, block: slice, regs: list[Any], phi: np.ndarray) -> None:
        """The M-step of one modality's rows ``block`` into ``phi``, a block of
        BLOCK_ROWS rows at a time: one pass for the column sums, one to write."""
        local = [r for r in regs if r.row_local]
        whole = [r for r in regs if not r.row_local]
        # A regularizer that needs all of the block at once gets it, as a W×T term.
        extra = None
        if whole:
            n_wt = self._n_wt[block] * self._scale
            extra = _reg.phi_term(whole, self._phi[block], n_wt)
            del n_wt
        n_words = block.stop - block.start

        def rows_of(start: int) -> tuple[slice, np.ndarray]:
            rows = slice(start, min(start + BLOCK_ROWS, n_words))
            at = slice(block.start + rows.start, block.start + rows.stop)
            n_wt = self._n_wt[at] * self._scale
            x = n_wt.copy()
            for r in local:
                x += r.phi_term(self._phi[at], n_wt, rows)
            if extra is not None:
                x += extra[rows]
            return at, np.maximum(x, 0.0, out=x)

        sums = np.zeros(self.n_topics)
        for start in range(0, n_words, BLOCK_ROWS):
            sums += rows_of(start)[1].sum(axis=0)
        empty = sums <= 0
        inverse = np.divide(1.0, sums, out=np.zeros_like(sums), where=~empty)
        for start in range(0, n_words, BLOCK_ROWS):
            at, x = rows_of(start)
            x *= inverse
            x[:, empty] = 1.0 / n_words
            x[x < TINY] = 0.0
            phi[at] = x

    def _touched(self, data: Any) -> np.ndarray:
        """The rows of n_wt an E-step over ``data`` touches (uint32, increasing)."""
        return _core.distinct_words(self._words_of(data), self._n_wt.shape[0])

    def _estep_into(self, datas: list[Any], words: np.ndarray | None = None):
        """(words, add) of an update whose ñ_wt is the E-steps over ``datas`` with the
        current Φ, added straight into n_wt; ``words`` are the rows they touch when known.
        ``add`` runs inside ``_updating(·, words, ·)``, which brings those rows of Φ up to
        date."""
        if words is None and len(datas) == 1:
            words = self._touched(datas[0])
        elif words is None:
            words = _core.distinct_words(
                np.concatenate([self._touched(d) for d in datas]), self._n_wt.shape[0]
            )
        # The masses of the state the update starts from (read before δ applies to it).
        n_t = self._topic_masses()

        def add(weight: float) -> tuple[np.ndarray, np.ndarray]:
            if self._updating_rows is not words:
                # Outside _updating the rows of Φ the E-steps read may be stale.
                raise RuntimeError(
                    "internal: an update's E-steps run inside MStep._updating(·, words, ·)"
                )
            if not self._layout.multimodal:
                return column_change(
                    self._estep(data, n_t, accumulate=True, into=self._n_wt, weight=weight)
                    for data in datas
                )
            # The kernels report the change of the column sums over all rows; the other
            # modalities' share of it is read off their (few) touched rows.
            before = self._block_sums(words, first=1)
            total, positive = column_change(
                self._estep(data, n_t, accumulate=True, into=self._n_wt, weight=weight)
                for data in datas
            )
            after = self._block_sums(words, first=1)
            change = [a - b for a, b in zip(after, before)]
            for c, all_rows in zip(change, (total, positive)):
                c[0] = all_rows - c[1:].sum(axis=0)
            return change[0], change[1]

        return words, add

    def _topic_mass(self) -> np.ndarray:
        """n_t of the text as float32 for the kernels (see :meth:`_topic_masses`)."""
        return self._topic_masses()[0]

    def _topic_masses(self) -> np.ndarray:
        """n_t of every modality (M×T float32) for the kernels; before the first M-step
        there is no mass yet, and ones make p(t|w) start as φ normalized over topics."""
        n_t = self._n_t * self._scale
        out = n_t.astype(np.float32)
        out[n_t.sum(axis=1) <= 0] = 1.0
        return out
