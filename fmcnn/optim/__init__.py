"""Optimizers (they only see Parameters) and learning-rate schedules."""
from .adam import Adam
from .optimizer import Optimizer
from .schedule import SCHEDULES, constant_lr, cosine_lr
from .sgd import SGD

__all__ = ["Adam", "Optimizer", "SGD", "SCHEDULES", "constant_lr", "cosine_lr"]
