"""Hodge numbers of CICY four-folds from line-bundle cohomology.

The method is the standard one (Hübsch; Gray–Haupt–Lukas, arXiv:1405.2073):

* line bundles ``O_A(k)`` on the ambient space ``A = P^{n_1} x ... x P^{n_m}`` have their
  cohomology in a single degree (Bott formula on each factor, Künneth);
* a line bundle ``L`` restricted to ``X`` is resolved by the Koszul complex
  ``0 -> ^K N* (x) L -> ... -> N* (x) L -> L -> L|_X -> 0`` whose spectral sequence
  ``E1^{-j,q} = H^q(A, ^j N* (x) L) => H^{q-j}(X, L|_X)`` we evaluate;
* the Euler sequence ``0 -> O_X^m -> (+)_i O_X(e_i)^{n_i+1} -> TA|_X -> 0`` and the normal
  sequence ``0 -> TX -> TA|_X -> N_X -> 0`` give ``h^q(X, TX)``, and on a Calabi–Yau
  four-fold ``h31 = h^1(TX)``, ``h21 = h^2(TX)``, ``h11 = h^3(TX)``; ``h22`` follows from
  ``44 = -4 h11 + 2 h21 - 4 h31 + h22``.

Where a map's rank is not fixed by dimensions it is computed for the generic complete
intersection: the defining polynomials get random coefficients over the prime field
``F_p`` (``p = 2^31 - 1``, fixed seed), cohomology classes are written as (inverse)
monomials (Čech representatives: ``H^n(P^n, O(k))`` for ``k < 0`` is spanned by Laurent
monomials with all exponents ``<= -1``), and ranks come from Gaussian elimination mod p.
What is decided by dimensions alone ("exact"):

* a Koszul spectral sequence with no possible differential between nonzero terms, or whose
  rows/groups of linked terms have at most one total degree inside ``[0, 4]`` (everything
  outside must die, and differentials keep Euler characteristics);
* ``h^q(O_X) = (1, 0, 0, 0, 1)`` is checked, not assumed (direct products fail it);
  then the Euler sequence is fixed (``C^m -> H^0`` is injective since the ``x_{i,a}`` never
  vanish together, ``H^4(O_X)^m`` injects into ``H^3(TA|_X)``);
* in the normal sequence ``h^0(TX) = h^{3,0} = 0`` and ``h^4(TX) = h^{0,1} = 0`` fix the
  ranks of ``H^0(TA|_X) -> H^0(N)`` and ``H^3(TA|_X) -> H^3(N)``;
* linear columns (a single entry 1) are removed first: they cut ``P^n`` to ``P^{n-1}``.

What is computed for random coefficients ("generic-rank"): Koszul ``d1`` maps
(multiplication by ``f_j`` on monomial / inverse-monomial bases) in rows with several
possible survivors, and the maps ``H^q(TA|_X) -> H^q(N)`` for ``q = 1, 2`` (derivatives
``d f_k / d x_{i,a}``) when both sides are nonzero.  The latter is a morphism of
Koszul-filtered complexes: a class from Koszul level ``j`` maps to zero in a target whose
classes all sit on levels above ``j``, and to the induced map on ``E_inf`` pieces when the
target's lowest level is ``j``.

Where that bookkeeping stops (a Koszul ``d2`` between two terms inside ``[0, 4]``, a
``d_r`` with ``r >= 3``, a Jacobian class on a higher level than the target's) the maps are
computed on Čech cochains: ``d2`` by one zig-zag, and otherwise the whole *transferred
complex* of the bundle (homological perturbation lemma: E1 terms with
``d_T = pi sum_n (-P H)^n P iota``, ``H`` a Čech contracting homotopy, ``P`` the Koszul
differential), whose cohomology is ``H^*(X, L)`` and on which the Jacobian map is
``pi_inf G iota_inf``.  Cochains are dicts of packed-int keys (monomial, faces, Koszul
index), H^0 factors stay constant 0-cochains, and zig-zags stop at the lowest Koszul level
that is read.  Cochain work is bounded (``CECH_WORK_BUDGET``): past it the result is
"undetermined".  Setting ``config._FORCE_TRANSFER`` evaluates every bundle this way (tests check
it against the known values).

Linear algebra over ``F_p`` is in :mod:`cicy4lib.geometry.modp`: python-flint ``nmod_mat`` by default, the
original numpy row echelon with ``rank_backend="numpy"`` (identical results).

Results say how they were obtained (``method``): ``"exact"`` when every sequence is fixed
by dimensions, ``"generic-rank"`` when a computed rank entered, ``"undetermined"`` (with
``hodge=None``) when a needed map is beyond this implementation.  Every accepted result
satisfies ``chi = 4 + 2 h11 - 4 h21 + 2 h31 + h22`` with ``chi`` from Chern classes.

The code, by idea: :mod:`.outcome` (:class:`HodgeResult`, ``Undetermined``), :mod:`.ambient`
(Bott + Künneth with monomial bases), :mod:`.config` (a configuration with its random defining
polynomials; :func:`line_bundle_cohomology`), :mod:`.koszul` (the nonzero Koszul terms),
:mod:`.linebundle` (the Koszul spectral sequence of one line bundle), :mod:`.cech` (Čech
cochains and zig-zags), :mod:`.transfer` (the transferred complex), :mod:`.jacobian` (the
maps ``H^q(TA|_X) -> H^q(N)``) and :mod:`.fourfold` (the Euler and normal sequences and
:func:`hodge_from_degree_matrix`).  This package re-exports the names other code uses.
"""
from __future__ import annotations

from ..euler import euler_number_reference as euler_from_degree_matrix  # noqa: F401
from ..modp import BACKENDS, DEFAULT_BACKEND, PRIME, rank_mod_p  # noqa: F401
from . import ambient, cech, config, fourfold, jacobian, koszul, linebundle, outcome, transfer  # noqa: F401
from .ambient import ambient_cohomology  # noqa: F401
from .cech import CECH_TIME_BUDGET, CECH_WORK_BUDGET, MAX_COCHAIN_TERMS  # noqa: F401
from .config import DEFAULT_SEED, line_bundle_cohomology  # noqa: F401
from .fourfold import hodge_from_degree_matrix, reduce_linear_columns  # noqa: F401
from .koszul import _koszul_subsets, _koszul_subsets_general, _koszul_subsets_many  # noqa: F401
from .outcome import METHODS, HodgeResult, Undetermined  # noqa: F401

__all__ = ["HodgeResult", "hodge_from_degree_matrix", "euler_from_degree_matrix",
           "line_bundle_cohomology", "rank_mod_p", "PRIME", "METHODS", "BACKENDS", "DEFAULT_BACKEND"]
