"""Learning-rate schedules: functions of the step number."""
import math


def constant_lr(step, total_steps, base_lr, warmup_steps=0):
    """The same learning rate at every step (after an optional linear warm-up)."""
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    return base_lr


def cosine_lr(step, total_steps, base_lr, warmup_steps=0, min_lr=0.0):
    """Linear warm-up to ``base_lr``, then half a cosine down to ``min_lr`` at ``total_steps``.

    lr(t) = min_lr + (base_lr - min_lr) * (1 + cos(pi * t / T)) / 2, with t and T
    counted after the warm-up. Large steps early, small careful steps at the end.
    """
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


SCHEDULES = {"constant": constant_lr, "cosine": cosine_lr}
