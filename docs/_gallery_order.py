"""The order of the gallery: from what a loss is to tuning and special data."""

ORDER = [
    "plot_loss_functions.py",
    "plot_grid_search_learning_rate.py",
    "plot_compare_losses_imbalanced.py",
    "plot_custom_loss.py",
    "plot_solvers.py",
    "plot_early_stopping.py",
    "plot_partial_fit_streaming.py",
    "plot_calibration.py",
    "plot_sparse_text.py",
    "plot_l1_sparsity_path.py",
]


class GalleryOrder:
    """Sort key of sphinx-gallery's ``within_subsection_order``.

    Examples missing from ``ORDER`` come last, by file name.
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = str(filename).rsplit("/", 1)[-1]
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)

    def __repr__(self):
        return f"<{type(self).__name__}>"
