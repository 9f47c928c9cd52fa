"""
===============================
A sparse, text-like problem
===============================

Bag-of-words data are wide and sparse: many features, each present in few
documents. :class:`~skloss.GDLogisticClassifier` trains on SciPy sparse
matrices as they are (no densifying), and an L1 penalty keeps the few words
that matter. The "documents" below are generated offline: each topic has a
handful of telling words among many shared ones.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from skloss import GDLogisticClassifier

rng = np.random.default_rng(0)
common = [f"word{i}" for i in range(2000)]
topics = {
    "sports": ["match", "goal", "team", "score", "coach", "league"],
    "science": ["theory", "experiment", "data", "physics", "cell", "energy"],
}


def document(topic):
    # Some documents carry no telling word at all: they cannot be classified.
    words = list(rng.choice(common, size=60))
    words += list(rng.choice(topics[topic], size=rng.integers(0, 3)))
    return " ".join(words)


labels = rng.integers(0, 2, size=1500)
names = list(topics)
docs = [document(names[label]) for label in labels]

# %%
# Cross-validated accuracy on the sparse matrix
# ---------------------------------------------
vectorizer = TfidfVectorizer()
X = vectorizer.fit_transform(docs)
print(f"X: {X.shape[0]} documents x {X.shape[1]} words, "
      f"{X.nnz / np.prod(X.shape):.2%} non-zero ({type(X).__name__})")
for penalty, alpha in [("l2", 1e-4), ("l1", 1e-3)]:
    pipe = make_pipeline(TfidfVectorizer(), GDLogisticClassifier(
        penalty=penalty, alpha=alpha, random_state=0))
    scores = cross_val_score(pipe, docs, labels, cv=5)
    print(f"penalty={penalty}, alpha={alpha:g}: CV accuracy "
          f"{scores.mean():.3f} +/- {scores.std():.3f}")

# %%
# The words the L1 model kept
# ---------------------------
# The positive class is "science": large positive weights are science words,
# large negative ones sports words; almost every shared word gets exactly 0.
clf = GDLogisticClassifier(penalty="l1", alpha=1e-3, random_state=0).fit(X, labels)
coef = clf.coef_.ravel()
words = vectorizer.get_feature_names_out()
print(f"{np.count_nonzero(coef)} of {coef.size} weights are non-zero")
top = np.argsort(-np.abs(coef))[:min(16, np.count_nonzero(coef))]
fig, ax = plt.subplots(figsize=(7, 5))
ax.barh(np.arange(top.size), coef[top],
        color=["tab:blue" if c > 0 else "tab:orange" for c in coef[top]])
ax.set_yticks(np.arange(top.size), words[top])
ax.invert_yaxis()
ax.axvline(0, color="0.5", linewidth=0.8)
ax.set_xlabel("weight (positive: science, negative: sports)")
ax.set_title(f"The {top.size} largest weights ({np.count_nonzero(coef)} of "
             f"{coef.size} are non-zero)")
fig.tight_layout()
plt.show()
