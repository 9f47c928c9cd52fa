"""Sphinx configuration for the skloss documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import skloss  # noqa: E402

project = "skloss"
author = "The skloss developers"
copyright = "2026, The skloss developers"
version = release = skloss.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
# scikit-learn's inherited helpers carry cross-references into sklearn's own
# docs, which do not resolve here.
autodoc_default_options = {
    "members": True,
    "exclude-members": (
        "score, get_metadata_routing, set_fit_request, set_partial_fit_request, "
        "set_score_request, set_predict_request, set_predict_proba_request"
    ),
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Without network access intersphinx cannot fetch inventories; keep it off.
intersphinx_mapping = {}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
}

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "sg_execution_times.rst"]
html_theme = "pydata_sphinx_theme"
html_title = "skloss"
html_static_path = []
suppress_warnings = ["config.cache"]
