"""Every speed trick of fmcnn, kept apart from the layers the chapters derive (the appendix, book/14_the_fast_package).

``fmcnn.nn`` holds one plain layer per formula; this package holds what makes the same
network fast, tested against it (tests/fast/):

- ``fused``: :class:`FusedLeNetBN`, LeNet-BN's forward and backward pass fused across layers
  (pooling before BatchNorm's scale and shift, channels-last im2col, a banded product for
  conv2's input gradient, im2col buffers reused from step to step, BatchNorm folded into the
  filters for evaluation, evaluation in slices that stay in the caches);
- ``threads``: one helper thread and :func:`on_two_cores`, which runs the two halves of a batch
  on two cores;
- ``unfold``: im2col into buffers reused from step to step, and with channels innermost;
- ``buffers``: :func:`reuse_or_empty`, the reuse itself;
- ``sums``: per-image channel sums as BLAS products, for BatchNorm's statistics;
- ``flat_col2im``: col2im as long runs on the flattened image (the appendix times it; the fused
  network needs no col2im at all).

Importing it starts the helper thread (it sleeps while it has no work).
"""
from .fused import FusedLeNetBN

__all__ = ["FusedLeNetBN"]
