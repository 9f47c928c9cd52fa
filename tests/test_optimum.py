"""The optimum matches LogisticRegression on the same objective."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from skloss import GDLogisticClassifier


@pytest.mark.parametrize("dataset", ["cancer", "iris"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("C", [0.1, 1.0])
def test_matches_logistic_regression(dataset, sparse, C, request):
    X, y = request.getfixturevalue(dataset)
    n = X.shape[0]
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, y)
    Xfit = sp.csr_matrix(X) if sparse else X
    clf = GDLogisticClassifier(alpha=1.0 / (C * n), tol=1e-10, max_iter=20_000)
    clf.fit(Xfit, y)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_allclose(
        clf.intercept_, ref.intercept_, rtol=1e-4, atol=1e-4 * scale
    )
