"""Neural nets on the engine: modules, losses, optimizers, a training loop, model files.

Names and numerics follow PyTorch (`parameters`, `zero_grad`, `step`, `state_dict`,
`cross_entropy`, `torch.optim`), so what you learn here carries over.
"""

from gategrad.nn.losses import (
    LOSSES,
    Objective,
    accuracy,
    bce_with_logits,
    cross_entropy,
    hinge_loss,
    l2_penalty,
    mean_absolute_error,
    mse_loss,
    objective,
    predicted_class,
    probabilities,
    r2_score,
)
from gategrad.nn.modules import ACTIVATIONS, MLP, Layer, Module, Neuron, predict
from gategrad.nn.optim import DEFAULT_LR, OPTIMIZERS, SGD, Adam, AdamW, Optimizer, clip_grad_norm
from gategrad.nn.record import Recorder
from gategrad.nn.serialization import FORMAT, FORMAT_VERSION, MAX_PARAMETERS, DataInfo, load, parameter_count
from gategrad.nn.train import Training, TrainingDiverged, fit

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_LR",
    "FORMAT",
    "FORMAT_VERSION",
    "LOSSES",
    "MAX_PARAMETERS",
    "MLP",
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamW",
    "DataInfo",
    "Layer",
    "Module",
    "Neuron",
    "Objective",
    "Optimizer",
    "Recorder",
    "Training",
    "TrainingDiverged",
    "accuracy",
    "bce_with_logits",
    "clip_grad_norm",
    "cross_entropy",
    "fit",
    "hinge_loss",
    "l2_penalty",
    "load",
    "mean_absolute_error",
    "mse_loss",
    "objective",
    "parameter_count",
    "predict",
    "predicted_class",
    "probabilities",
    "r2_score",
]
