"""The PNG figures of the reports: matrices, image grids, curves and bars.

Figures are built on `matplotlib.figure.Figure` and rendered by the Agg
canvas, never through pyplot: no display is needed, no global figure state
leaks between the many figures one sweep writes, and nothing changes the
backend of a user's own matplotlib session.
"""

import os

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

DPI = 80  # the PNGs go into docs/; small files, still readable
RIGHT, WRONG = "#1a7f37", "#cf222e"


def _save(figure, path):
    """Write the PNG to `path`, a file name or a binary file (the VisualDL dashboard
    logs the same figures from memory)."""
    if isinstance(path, (str, os.PathLike)):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=DPI, format="png")
    return path


def _annotated_matrix(axes, values, labels):
    """Cells coloured by `values` (NaN = grey), each labelled with its text."""
    colours = axes.imshow(np.ma.masked_invalid(values), aspect="auto",
                          cmap=matplotlib.colormaps["Blues"].with_extremes(bad="#dddddd"))
    finite = values[np.isfinite(values)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0
    for (row, col), value in np.ndenumerate(values):
        dark = np.isfinite(value) and value > middle
        axes.text(col, row, str(labels[row][col]), ha="center", va="center", fontsize=8,
                  color="white" if dark else "black")
    return colours


def confusion_matrix_png(matrix, path, title="Confusion matrix"):
    """Counts annotated; colour is the square root of the row fraction, so that
    mix-ups of 1-2% still stand out next to a diagonal of 98%."""
    figure = Figure(figsize=(7, 6), layout="constrained")
    axes = figure.add_subplot()
    fractions = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    _annotated_matrix(axes, np.sqrt(fractions), matrix)
    ticks = range(len(matrix))
    axes.set(xticks=ticks, yticks=ticks, xlabel="predicted digit", ylabel="true digit",
             title=title)
    return _save(figure, path)


def _mosaic(images, captions, cols):
    """One canvas holding every image under a blank caption strip; where each goes.

    Drawing a grid as one image plus text is ~20x faster than one axes per
    image, which matters for a 40-image grid on a busy 2-core machine.
    """
    rows = max(1, -(-len(images) // cols))
    (tile_h, tile_w), gap = images.shape[1:3], 4
    strip = 6 * max((c.count("\n") + 1 for c in captions), default=1) + 2
    cell_w, cell_h = tile_w + gap, tile_h + strip + gap
    canvas = np.full((rows * cell_h + gap, cols * cell_w + gap), 255, dtype=np.uint8)
    anchors = []
    for index, image in enumerate(images):
        row, col = divmod(index, cols)
        top, left = row * cell_h + gap + strip, col * cell_w + gap
        canvas[top:top + tile_h, left:left + tile_w] = image
        anchors.append((left + tile_w / 2, top - 1))
    return canvas, anchors


def _draw_mosaic(axes, images, captions, colors, cols):
    canvas, anchors = _mosaic(images, captions, cols)
    axes.imshow(canvas, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    axes.set_axis_off()
    for (x, y), caption, colour in zip(anchors, captions, colors or ["black"] * len(captions)):
        axes.text(x, y, caption, ha="center", va="bottom", fontsize=8, color=colour,
                  linespacing=1.0)
    return canvas.shape


PIXELS_PER_IMAGE_PIXEL = 2.5
TITLE_PIXELS = 28


def image_grid_png(images, captions, path, colors=None, cols=10, title=None):
    """uint8 [N,H,W] images (light on dark) in a grid, each with a caption above it."""
    height, width = _mosaic(images, captions, cols)[0].shape
    grid_h, grid_w = height * PIXELS_PER_IMAGE_PIXEL, width * PIXELS_PER_IMAGE_PIXEL
    head = TITLE_PIXELS if title else 0
    figure = Figure(figsize=(grid_w / DPI, (grid_h + head) / DPI))
    _draw_mosaic(figure.add_axes((0, 0, 1, grid_h / (grid_h + head))), images, captions,
                 colors, cols)
    if title:
        figure.text(0.5, 1 - head / 2 / (grid_h + head), title, ha="center", va="center")
    return _save(figure, path)


def heatmap_png(values, row_labels, col_labels, row_name, col_name, path, title):
    """A grid of percentages; NaN cells (e.g. diverged runs) are grey and say so."""
    figure = Figure(figsize=(1.4 * len(col_labels) + 2.2, 1.0 * len(row_labels) + 1.6),
                    layout="constrained")
    axes = figure.add_subplot()
    text = [[f"{v:.2%}" if np.isfinite(v) else "diverged" for v in row] for row in values]
    colours = _annotated_matrix(axes, np.asarray(values, dtype=float), text)
    figure.colorbar(colours, ax=axes, format=PercentFormatter(1.0))
    axes.set(xticks=range(len(col_labels)), xticklabels=col_labels, xlabel=col_name,
             yticks=range(len(row_labels)), yticklabels=row_labels, ylabel=row_name, title=title)
    return _save(figure, path)


def bar_chart_png(labels, values, path, title, references=None, xlabel="test accuracy"):
    """Horizontal bars of fractions (NaN = diverged); reference numbers as markers."""
    figure = Figure(figsize=(8, 0.6 * len(labels) + 1.8), layout="constrained")
    axes = figure.add_subplot()
    positions = np.arange(len(labels))[::-1]
    values = np.asarray(values, dtype=float)
    axes.barh(positions, np.nan_to_num(values), color="#4c72b0", label="this run")
    for y, value in zip(positions, values):
        text = f" {value:.2%}" if np.isfinite(value) else " diverged"
        axes.text(np.nan_to_num(value), y, text, va="center", fontsize=8)
    marked = [(y, r) for y, r in zip(positions, references or []) if r is not None]
    if marked:
        axes.scatter([r for _, r in marked], [y for y, _ in marked], marker="|", s=300,
                     color=WRONG, label="reported by the study", zorder=3)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, fontsize=8)
    shown = [v for v in values if np.isfinite(v)] + [r for _, r in marked]
    low = min(shown, default=0.0)
    # zoom on the interesting range: accuracies of 97-99% differ by a hair on a 0-1 axis
    axes.set(yticks=positions, yticklabels=labels, xlabel=xlabel, title=title,
             xlim=(max(0.0, low - (1 - low)), 1.0 + (1 - low) * 0.3))
    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    return _save(figure, path)


def curves_png(runs, path, title="Training curves"):
    """Loss and accuracy per epoch: train solid, evaluation dashed, one colour a run."""
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    loss_axes, acc_axes = figure.subplots(1, 2)
    colours = [f"C{i % 10}" for i in range(len(runs))]
    for run, colour in zip(runs, colours):
        for metric, axes in (("loss", loss_axes), ("acc", acc_axes)):
            for part, style in (("train", "-"), ("eval", "--")):
                points = run.series(f"{part}_{metric}")
                if points:
                    label = run.name + (" train" if part == "train" else f" {run.eval_split}")
                    axes.plot(*zip(*points), style, color=colour, marker="o", markersize=3,
                              label=label)
    loss_axes.set(xlabel="epoch", ylabel="loss", title="loss")
    acc_axes.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for axes in (loss_axes, acc_axes):
        axes.grid(alpha=0.3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    acc_axes.legend(fontsize=7)
    figure.suptitle(title)
    return _save(figure, path)


def data_overview_png(images, captions, counts, path, title):
    """A grid of sample images above a bar chart of each digit's share per split."""
    height, width = _mosaic(images, captions, 10)[0].shape
    grid_h, grid_w = height * PIXELS_PER_IMAGE_PIXEL, width * PIXELS_PER_IMAGE_PIXEL
    chart_h, total = 260, grid_h + 260 + TITLE_PIXELS
    figure = Figure(figsize=(grid_w / DPI, total / DPI))
    figure.text(0.5, 1 - TITLE_PIXELS / 2 / total, title, ha="center", va="center")
    _draw_mosaic(figure.add_axes((0, chart_h / total, 1, grid_h / total)), images, captions,
                 None, 10)
    axes = figure.add_axes((0.09, 40 / total, 0.88, (chart_h - 70) / total))
    width = 0.8 / len(counts)
    for offset, (split, values) in enumerate(counts.items()):
        share = np.asarray(values) / max(1, sum(values))
        axes.bar(np.arange(10) + (offset - (len(counts) - 1) / 2) * width, share, width,
                 label=f"{split} ({sum(values):,} images)")
    axes.set(xticks=range(10), xlabel="digit", ylabel="share of split",
             title="class balance", ylim=(0, 0.15))
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.legend(fontsize=8, loc="upper right", ncols=len(counts))
    return _save(figure, path)
