"""Nested loss hyperparameters: ``set_params(loss__gamma=2)``.

scikit-learn sets nested parameters of estimator-valued parameters; a loss
given by name is a string, so this mixin makes ``loss__<name>`` work for it
too, as grid searches over losses and their hyperparameters need.
"""

from .losses._registry import nested_loss_params


class NestedLossParamsMixin:
    """``set_params`` that understands ``loss__<name>`` for a loss by name.

    Examples
    --------
    >>> from skloss import GDLogisticClassifier
    >>> clf = GDLogisticClassifier().set_params(loss="focal", loss__gamma=3.0)
    >>> clf.loss.gamma
    3.0
    """

    def set_params(self, **params):
        """Set parameters; ``loss__<name>`` also works when ``loss`` is a name.

        A loss given by name is replaced by an instance of the registered
        class carrying the nested hyperparameters, so grids such as
        ``{"loss": ["focal"], "loss__gamma": [1, 2]}`` work.

        In a call that also sets ``loss`` (as a grid search does for each
        candidate), a nested hyperparameter that the chosen loss does not
        have, but some registered loss has, is skipped: one grid such as
        ``{"loss": ["log_loss", "focal"], "loss__gamma": [1, 2]}`` then
        covers losses with different hyperparameters (log loss is fitted
        once per ``gamma``, with the same result; a list of grids,
        ``[{"loss": ["log_loss"]}, {"loss": ["focal"], "loss__gamma": [1,
        2]}]``, avoids the repeated fits). Any other unknown nested name is
        an error that lists the loss's hyperparameters.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : estimator
        """
        rest = {k: v for k, v in params.items() if not k.startswith("loss__")}
        # All or nothing: everything is checked before anything changes.
        loss, sub = nested_loss_params(
            rest.get("loss", self.loss),
            {k[len("loss__"):]: v for k, v in params.items() if k.startswith("loss__")},
            choosing_loss="loss" in rest,
        )
        before = self.get_params(deep=False)
        try:
            super().set_params(**rest)
        except BaseException:
            super().set_params(**before)
            raise
        if loss is not None:
            self.loss = loss
            loss.set_params(**sub)
        return self
