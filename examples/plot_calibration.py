"""
======================================
Probabilities and calibration per loss
======================================

Every loss trains a decision function; only some also give probabilities.
Log loss is a proper scoring rule, so ``predict_proba`` estimates the
probability of the positive class; the Brier loss is proper too; focal loss
pushes confident probabilities toward the middle, and ``modified_huber``
gives probabilities through a clipped linear map. scikit-learn's
:class:`~sklearn.calibration.CalibrationDisplay` shows how close the
predicted probabilities are to the observed frequencies. Losses without
probabilities (``hinge``) can be calibrated with
:class:`~sklearn.calibration.CalibratedClassifierCV`.
"""

import matplotlib.pyplot as plt
from sklearn.calibration import CalibratedClassifierCV, CalibrationDisplay
from sklearn.datasets import make_classification
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skloss import GDLogisticClassifier

X, y = make_classification(n_samples=4000, n_features=20, n_informative=4,
                           flip_y=0.05, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5,
                                                    random_state=0)


def model(loss):
    return make_pipeline(StandardScaler(),
                         GDLogisticClassifier(loss=loss, random_state=0))


models = {
    "log_loss": model("log_loss"),
    "brier": model("brier"),
    "focal (gamma=2)": model("focal"),
    "modified_huber": model("modified_huber"),
    "hinge + CalibratedClassifierCV": CalibratedClassifierCV(
        model("hinge"), method="sigmoid", cv=3),
}

# %%
# Reliability diagram
# -------------------
fig, ax = plt.subplots(figsize=(7, 6))
for name, est in models.items():
    est.fit(X_train, y_train)
    proba = est.predict_proba(X_test)[:, 1]
    print(f"{name:>31}: Brier score {brier_score_loss(y_test, proba):.4f}")
    CalibrationDisplay.from_predictions(y_test, proba, n_bins=10, name=name,
                                        ax=ax)
ax.set_title("Calibration of predict_proba per training loss")
plt.show()
