"""ConvPlayground: one kernel (a preset or typed values) applied to a garment, before and after ReLU."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...data import CLASS_NAMES
from ..filters import draw_image
from .base import ImageExplorer, annotate, show_array
from .precomputed import Choice
from .presets import KERNEL_SIZES, PRESET_KERNELS, check_kernel_size, preset_kernel


SIZES = tuple((f"{k}x{k}", k) for k in KERNEL_SIZES)
"""The options of the kernel size controls: (label, size)."""


def correlate_same(image, kernel):
    """Cross-correlate one image (H, W) with a kernel (k, k), k odd, zero-padded so the output is (H, W).

    This is what a conv layer with one input and one output channel, stride 1
    and padding k // 2 computes (without bias).
    """
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    k = kernel.shape[0]
    padded = np.pad(image, k // 2)
    return np.einsum("ijab,ab->ij", sliding_window_view(padded, (k, k)), kernel)


class ConvPlayground(ImageExplorer):
    """A kernel applied to a garment: choose a preset (edges, blur, sharpen, ...), 3x3 or
    5x5, and edit its values; see the output and the output after ReLU.

    Settings: ``cls``, ``index`` (the garment), ``size`` (the kernel size: 3 or 5),
    ``preset`` (a name of :data:`PRESET_KERNELS`, or "custom") and ``kernel`` (the
    values, size x size; choosing a preset replaces them, editing them makes the
    preset "custom"). Pixels are scaled to [0, 1] (no normalization), as in the
    convolution chapter.
    """

    figsize = (11, 3.0)

    def __init__(self, images, labels, cls=0, index=0, preset=None, size=3, kernel=None, class_names=CLASS_NAMES):
        self._init_images(images, labels, class_names, normalize=False)
        if preset is None:
            preset = "vertical edges" if kernel is None else "custom"
        if kernel is None:
            kernel = preset_kernel("identity" if preset == "custom" else preset, size)
        super().__init__(cls=cls, index=index, size=size, preset=preset, kernel=kernel)

    def _clean(self, state):
        state = self._clean_image(state)
        kernel_size = int(state["size"])
        check_kernel_size(kernel_size)
        kernel = np.asarray(state["kernel"], dtype=np.float64)
        preset = state["preset"]
        if preset != "custom" and preset not in PRESET_KERNELS:
            raise ValueError(f"no preset {preset!r}; presets: {', '.join(PRESET_KERNELS)}, custom")
        if preset != "custom" and (self.state.get("preset") != preset or kernel.shape != (kernel_size, kernel_size)
                                   or self.state.get("size") != kernel_size):
            kernel = preset_kernel(preset, kernel_size)   # a new preset (or size) replaces the values
        elif kernel.shape != (kernel_size, kernel_size):  # a custom kernel that changes size keeps its centre
            new = np.zeros((kernel_size, kernel_size))
            m = min(kernel_size, kernel.shape[0])
            a, b = (kernel_size - m) // 2, (kernel.shape[0] - m) // 2
            new[a:a + m, a:a + m] = kernel[b:b + m, b:b + m]
            kernel = new
        state.update(size=kernel_size, kernel=kernel)
        return state

    def update(self, **changes):
        """As :meth:`Explorer.update`; changing ``kernel`` alone makes the preset "custom"."""
        if "kernel" in changes and "preset" not in changes:
            changes["preset"] = "custom"
        return super().update(**changes)

    def output(self, cls, index, kernel):
        """The garment (pixels in [0, 1]) and its correlation with ``kernel`` (same size)."""
        image = self.images[self.image_number(cls, index)] / 255.0
        return image, correlate_same(image, kernel)

    def _draw_into(self, fig, cls, index, size, preset, kernel):
        image, out = self.output(cls, index, kernel)
        axes = [fig.add_axes((0.01 + 0.25 * j, 0.03, 0.23, 0.8)) for j in range(4)]
        n = self.image_number(cls, index)
        draw_image(axes[0], image, title=f"image {n}: {self.class_names[cls]}", label_size=9)
        _, _, vmax = show_array(axes[1], kernel, f"kernel: {preset} ({size}x{size})", 9)
        annotate(axes[1], kernel, 9 if size == 3 else 7, vmax)
        show_array(axes[2], out, f"output: {out.min():.2f} to {out.max():.2f}", 9)
        relu = np.maximum(out, 0)
        show_array(axes[3], relu, "output after ReLU", 9, scale=("viridis", 0, max(float(relu.max()), 1e-12)))

    def precomputed_choices(self):
        presets = list(PRESET_KERNELS) + (["custom"] if self.state["preset"] == "custom" else [])
        return self._image_choices(1) + [Choice("preset", "kernel", tuple((p, p) for p in presets)),
                                         Choice("size", "size", SIZES, "buttons")]

    def _make_controls(self, widgets):
        controls = self._image_controls(widgets)
        controls["size"] = widgets.ToggleButtons(options=SIZES, value=self.state["size"], description="size",
                                                 style={"button_width": "60px"})
        controls["preset"] = widgets.Dropdown(options=list(PRESET_KERNELS) + ["custom"], value=self.state["preset"],
                                              description="kernel", layout=widgets.Layout(width="240px"))
        self._cells = [widgets.FloatText(layout=widgets.Layout(width="62px")) for _ in range(max(KERNEL_SIZES) ** 2)]
        for i, cell in enumerate(self._cells):
            cell.observe(lambda change, i=i: self._on_cell(i, change["new"]), names="value")
        self._grid = widgets.GridBox(layout=widgets.Layout(grid_gap="2px"))
        self._sync_cells()
        return controls

    def _layout(self, widgets, controls):
        left = widgets.VBox(list(controls.values()))
        right = widgets.VBox([widgets.HTML("<b>kernel values</b> (edit, then press Enter or leave the box)"),
                              self._grid])
        return widgets.HBox([left, right], layout=widgets.Layout(flex_flow="row wrap", grid_gap="20px"))

    def _sync(self, controls):
        super()._sync(controls)
        self._sync_cells()

    def _sync_cells(self):
        k = self.state["size"]
        syncing, self._syncing = self._syncing, True
        try:
            for i, v in enumerate(np.asarray(self.state["kernel"]).ravel()):
                if self._cells[i].value != float(v):
                    self._cells[i].value = float(v)
        finally:
            self._syncing = syncing
        if len(self._grid.children) != k * k:
            self._grid.children = self._cells[:k * k]
            self._grid.layout.grid_template_columns = f"repeat({k}, 64px)"

    def _on_cell(self, i, value):
        if self._syncing:
            return
        kernel = np.array(self.state["kernel"], dtype=np.float64)
        kernel.flat[i] = value
        self._update_from_widget(kernel=kernel)
