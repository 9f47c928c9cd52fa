"""Views of a training cost: on other rows, in other coordinates, smoothed.

:class:`RowViewsMixin` gives :class:`~skloss._objective.LinearObjective` the
costs that solvers evaluate on part of the data: every ``step``-th row (the
"auto" warm start of "gd"), a mini-batch, and a fast mini-batch evaluator.
A view shares its parent's coordinates (centring mean, feature factors),
penalty and loss guard, and gets the route and statistics of its own rows.
:class:`TransformedViewsMixin` gives the same cost on the same rows in
standardized coordinates (a diagonal preconditioner) and with a smooth
approximation of a kinked loss.
"""

import copy

import numpy as np
import scipy.sparse as sp

from ._array_api import take_rows, to_device, to_host
from ._dask import gather_strided, is_dask_array
from ._kernels import BatchRows, renormalised, route, rows_loss_gradient
from ._scaling import preconditioner_factors


class RowViewsMixin:
    """Strided, mini-batch and fast mini-batch views of a LinearObjective."""

    def strided(self, step, offset=0):
        """The cost on every ``step``-th sample, from ``offset``: a view.

        Rows ``offset, offset + step, ...`` of dense ``X`` (no copy);
        weights renormalised to sum to one; centring, preconditioning,
        penalty and guard kept from this cost. Used by "auto" gradient
        descent for a cheap warm start.

        Returns
        -------
        LinearObjective or None
            None for sparse data, or when the rows taken all have zero
            weight; see :meth:`strided_views` for dask data.

        Examples
        --------
        >>> import numpy as np
        >>> from skloss._objective import LinearObjective
        >>> from skloss.losses import LogLoss
        >>> X = np.arange(12.0).reshape(6, 2)
        >>> obj = LinearObjective(LogLoss(), X, np.array([0.0, 1.0] * 3))
        >>> obj.strided(2, offset=1).X
        array([[ 2.,  3.],
               [ 6.,  7.],
               [10., 11.]])
        """
        (view,) = self.strided_views(step, (offset,))
        return view

    def strided_views(self, step, offsets):
        """:meth:`strided` for each of ``offsets``: a list of views or None.

        On dask data the rows are brought to the client in one computation
        (:func:`skloss._dask.gather_strided`), so the views are NumPy costs
        that a solver evaluates without a round trip to the cluster; None
        for each when they would take more than
        ``skloss._dask.CLIENT_ROWS_MAX_BYTES``.

        Examples
        --------
        >>> import numpy as np
        >>> from skloss._objective import LinearObjective
        >>> from skloss.losses import LogLoss
        >>> X = np.arange(12.0).reshape(6, 2)
        >>> obj = LinearObjective(LogLoss(), X, np.array([0.0, 1.0] * 3))
        >>> [view.n_samples for view in obj.strided_views(4, (0, 2))]
        [2, 1]
        """
        if self.sparse:
            return [None] * len(offsets)
        if is_dask_array(self.X):
            parts = gather_strided(self.X, self.y, self.sw, step, offsets)
            if parts is None:
                return [None] * len(offsets)
        else:
            # Strided slices are views in NumPy, PyTorch and CuPy alike (the
            # ellipsis spells out the other axes, as the array API asks).
            parts = [
                (self.X[o::step, ...], self.y[o::step, ...],
                 None if self.sw is None else self.sw[o::step])
                for o in offsets
            ]
        return [self._rows_view(X, y, sw) for X, y, sw in parts]

    def _rows_view(self, X, y, sw):
        """This cost on the rows ``(X, y, sw)``, weights renormalised."""
        weights = renormalised(sw, X.shape[0], self.xp)
        if weights is None:
            return None
        sw, scale, _ = weights
        # The smoothness bound of the whole data stays valid for the warm
        # start's steps.
        return self._view(X, y, sw, scale, keep_bounds=True)

    def batch(self, idx):
        """The cost restricted to the rows ``idx``: a mini-batch objective.

        The batch's sample weights are normalised to sum to one within the
        batch (an unweighted batch cost is the batch's mean loss); the
        penalty is unchanged and the centring mean stays that of the full
        data, so batch gradients are those of the same parametrisation.

        Returns
        -------
        LinearObjective or None
            None when the batch's samples all have zero weight.

        Examples
        --------
        >>> import numpy as np
        >>> from skloss._objective import LinearObjective
        >>> from skloss.losses import LogLoss
        >>> X = np.array([[1.0], [-1.0], [2.0]])
        >>> obj = LinearObjective(LogLoss(), X, np.array([1.0, 0.0, 1.0]))
        >>> sub = obj.batch(np.array([0, 2]))
        >>> sub.X.shape, bool(np.all(sub.mean == obj.mean))
        ((2, 1), True)
        """
        X = take_rows(self.X, idx)
        weights = renormalised(
            None if self.sw is None else take_rows(self.sw, idx), X.shape[0], self.xp
        )
        if weights is None:
            return None
        sw, scale, _ = weights
        return self._view(X, take_rows(self.y, idx), sw, scale)

    def batch_weight(self, idx):
        """The rows' share of the weights: their number when unweighted."""
        if self.sw is None:
            return float(idx.shape[0])
        return float(self.xp.sum(take_rows(self.sw, idx)))

    def batch_evaluator(self, batch_size):
        """A fast evaluator of mini-batch costs and gradients, or None.

        ``evaluator(idx, theta)`` returns what
        ``self.batch(idx).smooth_value_gradient(theta)`` returns, computed
        by the same kernel (so bit for bit the same), plus the batch's
        weight; None for a batch of zero weight. Without the per-batch copy
        of this object, array-namespace dispatch and allocations of the
        batch rows, a step on 256 x 100 float64 rows costs about 30
        microseconds instead of 52. The gradient is written into a reused
        array: it is valid until the next call.

        Returns
        -------
        callable or None
            None where the generic path must be used: data other than
            NumPy arrays or SciPy CSR matrices, or batches large enough for
            the full-data evaluation to take another route (cache blocks).

        Examples
        --------
        >>> import numpy as np
        >>> from skloss._objective import LinearObjective
        >>> from skloss.losses import LogLoss
        >>> X = np.array([[1.0], [-1.0], [2.0]])
        >>> obj = LinearObjective(LogLoss(), X, np.array([1.0, 0.0, 1.0]))
        >>> theta = np.array([[0.5], [0.1]])
        >>> value, grad, weight = obj.batch_evaluator(2)(np.array([0, 2]), theta)
        >>> ref_value, ref_grad = obj.batch(np.array([0, 2])).smooth_value_gradient(
        ...     theta)
        >>> value == ref_value, bool(np.all(grad == ref_grad)), weight
        (True, True, 2.0)
        """
        X, y, sw = self.X, self.y, self.sw
        if not (
            isinstance(y, np.ndarray)
            and (sw is None or isinstance(sw, np.ndarray))
            and (sp.issparse(X) and X.format == "csr" or type(X) is np.ndarray)
        ):
            return None
        batch_size = min(int(batch_size), X.shape[0])
        # A batch view is evaluated as a whole dataset: the evaluator is
        # only the same where that takes the one-pass route.
        if batch_size < 1 or route(X[:batch_size], y[:batch_size]).name != "numpy":
            return None
        gather = BatchRows(self._rows, batch_size)
        grad = np.empty((self.n_features + 1, self.n_outputs), dtype=self.dtype)

        def evaluate(idx, theta):
            batch = gather(idx)
            if batch is None:
                return None
            rows, weight = batch
            W = self._coef(theta)
            value, out = rows_loss_gradient(
                rows, self._guard, W, self._shift(theta, W), grad
            )
            value, out = self._finish(value, out, W)
            return value, out, weight

        return evaluate


class TransformedViewsMixin:
    """Preconditioned and smoothed copies of a LinearObjective."""

    def preconditioned(self):
        r"""This cost in standardized coordinates: a diagonal preconditioner.

        The copy's solver coefficients are :math:`\tilde W_j = W_j / f_j`
        with :math:`f_j = 1 / \sqrt{\mathrm{var}_j + \ell_2 / \beta}`
        (:math:`\mathrm{var}_j` the weighted variance of feature j, or its
        mean square without an intercept; :math:`\beta` the loss's
        smoothness): every coordinate gets the curvature of a standardized
        feature (Jacobi preconditioning), so features on different scales
        cost a gradient method no extra iterations. The penalty moves with
        the coefficients (per-feature L1 thresholds in :meth:`prox`), so the
        optimum in W is the same. Nothing of size ``X`` is allocated: the
        factors multiply the (d, K) coefficients. Convert parameters with
        ``to_model`` and ``from_model`` of each objective.

        Returns
        -------
        LinearObjective
            The preconditioned copy, or ``self`` when it would not help:
            features already rescaled for extreme magnitude, or factors all
            within 1% of one (standardized data).

        Examples
        --------
        >>> import numpy as np
        >>> from skloss._objective import LinearObjective
        >>> from skloss.losses import LogLoss
        >>> X = np.array([[1.0, 100.0], [-1.0, -300.0], [2.0, 50.0]])
        >>> obj = LinearObjective(LogLoss(), X, np.array([1.0, 0.0, 1.0]))
        >>> pre = obj.preconditioned()
        >>> theta = obj.from_model(np.array([[0.5], [0.01], [0.2]]))
        >>> bool(np.isclose(obj.value(theta),
        ...                 pre.value(pre.from_model(obj.to_model(theta)))))
        True
        """
        X = self.X
        if self.inv_scale is not None or X.shape[0] == 0:
            return self
        var = self._stats.column_squares()
        if self.mean is not None:
            var = var - np.asarray(to_host(self.mean), dtype=np.float64) ** 2
        var = np.clip(var, 0.0, None)
        f = preconditioner_factors(var, self.penalty.l2, self.loss.smoothness)
        intercept = 1.0 if self.fit_intercept else 0.0
        if np.all(np.abs(f - 1.0) <= 0.01):
            # (X.dtype by name: a PyTorch or array-api-strict dtype does not
            # compare equal to NumPy's.)
            float64 = (
                X.dtype == np.float64 if isinstance(X, np.ndarray)
                else str(X.dtype).split(".")[-1] == "float64"
            )
            if self._sq_norm is None and float64:
                # mean_sq_norm from the same moments: no second pass over X.
                self._sq_norm = float(np.sum(var)) + intercept
            return self
        other = copy.copy(self)
        device = getattr(self.y, "device", None)
        other.inv_scale = to_device(f, self.xp, device, X.dtype)
        other._l2_factor = float(np.max(f) ** 2) if self.penalty.l2 > 0 else 1.0
        other._sq_norm = float(np.sum(var * f * f)) + intercept
        other._L = None
        return other

    def smoothed(self, mu):
        """This cost with the loss's smooth approximation of width ``mu``.

        A copy sharing the data and coordinates, its loss
        ``loss.smoothed(mu)`` (see :meth:`skloss.Loss.smoothed`); None when
        the loss offers none.
        """
        loss = self.loss.smoothed(mu)
        if loss is None:
            return None
        other = copy.copy(self)
        other.loss = loss
        other._L = None
        other._newton = None  # decided again for the new loss
        return other
