"""Sphinx configuration for the skloss documentation."""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath(os.path.dirname(__file__)))

import skloss  # noqa: E402

project = "skloss"
author = "The skloss developers"
copyright = "2026, The skloss developers"
version = release = skloss.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    # Formulas: rendered to images at build time when LaTeX and dvipng are
    # installed (no network needed to read them), else MathJax (see below).
    "sphinx.ext.imgmath" if shutil.which("latex") and shutil.which("dvipng")
    else "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
# Every public method is documented, the ones inherited from scikit-learn
# (get_params, set_params, score, set_callbacks, metadata routing) included.
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Without network access intersphinx cannot fetch inventories; keep it off.
intersphinx_mapping = {}

# Formulas without network access. With a LaTeX installation (Debian:
# apt-get install texlive-latex-base texlive-latex-recommended dvipng),
# imgmath renders every formula to a PNG image at build time, so the
# pages show them offline. Without one, MathJax renders them in the
# browser, which loads MathJax from its CDN: the build still succeeds and
# the pages show the formulas wherever the reader has network access.
# Sphinx's LaTeX template loads anyfontsize, which only texlive-latex-extra
# provides; _texinputs/ holds a stand-in, searched after TeX's own path.
os.environ["TEXINPUTS"] = (
    os.environ.get("TEXINPUTS", "") + os.pathsep
    + os.path.join(os.path.abspath(os.path.dirname(__file__)), "_texinputs")
    + os.pathsep
)
imgmath_image_format = "png"
imgmath_font_size = 14
imgmath_use_preview = False
imgmath_latex_preamble = ""

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    # A teaching order (docs/_gallery_order.py), not the alphabet's.
    "within_subsection_order": "_gallery_order.GalleryOrder",
    # Every example's figures are captured; none needs the network.
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "backreferences_dir": None,
}

_SKLEARN_REF = re.compile(r":(?:ref|term):`([^`<]+?)\s*<[^>`]+>`|:(?:ref|term):`([^`]+)`")


def _unlink_sklearn_refs(app, what, name, obj, options, lines):
    """Inherited scikit-learn docstrings cross-reference scikit-learn's own
    docs (its glossary, its user guide), which do not exist here (and
    intersphinx is off): keep their text, drop the link."""
    module = getattr(obj, "__module__", "") or ""
    if not module.startswith("sklearn"):
        return
    lines[:] = [_SKLEARN_REF.sub(lambda m: m.group(1) or m.group(2), line)
                for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _unlink_sklearn_refs)


templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "sg_execution_times.rst"]
html_theme = "pydata_sphinx_theme"
html_title = "skloss"
html_theme_options = {
    # The top navigation names every page of the main toctree, the gallery
    # included; keep them all visible instead of folding them under "More".
    "header_links_before_dropdown": 10,
    "navigation_with_keys": False,
}
html_static_path = ["_static"]
html_css_files = ["skloss.css"]
suppress_warnings = ["config.cache"]
