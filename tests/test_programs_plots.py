"""The plots a learner looks at: every legend stays off the data (no curve point, bar or marker under it),
and the axes say what they show in the learner's words."""

import numpy as np
import pytest

from tinygrad_lite.programs import demos, plots, tutorials

pytestmark = pytest.mark.slow  # subprocesses, trained demos, a browser: `make check` leaves them out

pytest.importorskip("matplotlib", reason="matplotlib is in the plot extra, which make test installs")


def _figures(monkeypatch, make, run, tmp_path):
    """The figures `make` saves, drawn, each with its file name."""
    figures = []
    save = plots._save

    def keep(fig, folder, name):
        fig.canvas.draw()
        figures.append((name, fig, [_boxes(ax) for ax in fig.axes]))
        return save(fig, folder, name)

    monkeypatch.setattr(plots, "_save", keep)
    make(run, tmp_path)
    return figures


def _boxes(ax):
    """(legend box, data points, bars' boxes) of one axes, in display pixels, taken before the figure closes."""
    legend = ax.get_legend()
    box = legend.get_window_extent() if legend is not None else None
    points = []
    for line in ax.get_lines():
        points.append(ax.transData.transform(line.get_xydata()))
    for collection in ax.collections:
        offsets = collection.get_offsets()
        if len(offsets) and collection.get_offset_transform() is ax.transData:  # markers (scatter), not contours
            points.append(ax.transData.transform(offsets))
    bars = [patch.get_window_extent() for patch in ax.patches]
    return box, np.concatenate(points) if points else np.zeros((0, 2)), bars


def _covered(box, points):
    inside = ((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1) & (points[:, 1] >= box.y0) &
              (points[:, 1] <= box.y1))
    return points[inside]


@pytest.mark.parametrize("name", ["regressor", "xor", "moons"])
def test_no_legend_covers_a_data_point(monkeypatch, tmp_path, name):
    make = {"regressor": (plots.regressor, tutorials.regressor), "xor": (plots.xor, tutorials.xor),
            "moons": (plots.moons, demos.moons)}[name]
    figures = _figures(monkeypatch, make[0], make[1](), tmp_path)
    legends = 0
    for file, _, axes in figures:
        for box, points, bars in axes:
            if box is not None:
                legends += 1
                assert len(points) or bars, file
                assert len(_covered(box, points)) == 0, f"{file}: the legend covers {_covered(box, points)[:3]}"
                assert not any(box.overlaps(bar) for bar in bars), f"{file}: the legend covers a bar"
    assert legends >= {"regressor": 4, "xor": 1, "moons": 1}[name]


def test_the_regressor_plots_speak_of_exam_scores_and_hours(monkeypatch, tmp_path):
    figures = _figures(monkeypatch, plots.regressor, tutorials.regressor(), tmp_path)
    labels = {file: [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes] for file, fig, _ in figures}
    assert labels["regressor_predictions.png"][0][1] == "exam score (out of 100)"  # not "test score"
    assert labels["regressor_grid.png"][0] == ("hours of sleep", "hours of study")
    assert labels["regressor_grid.png"][1][1] == "predicted exam score"  # the colour bar


def test_every_accuracy_point_of_the_digits_curves_is_inside_the_axes(monkeypatch, tmp_path):
    run = demos.digits(mlp_epochs=2, cnn_epochs=2)
    run.curves["results"]["cnn"]["history"]["test_accuracy"][0] = 0.62  # a first epoch far below the others
    figures = dict((file, fig) for file, fig, _ in _figures(monkeypatch, plots.digits, run, tmp_path))
    accuracy = figures["digits_curves.png"].axes[1]
    low, high = accuracy.get_ylim()
    for line in accuracy.get_lines():
        y = line.get_ydata()
        assert low <= y.min() and y.max() <= high, (line.get_label(), y.min(), (low, high))
    assert low <= 60 and high == 100
