"""Neural nets on the engine: modules, losses, optimizers, a training loop, model files.

Names and numerics follow PyTorch (`parameters`, `zero_grad`, `step`, `state_dict`,
`cross_entropy`, `torch.optim`), so what you learn here carries over.
"""

from gategrad.nn.files import FORMAT, FORMAT_VERSION, DataInfo, load
from gategrad.nn.losses import accuracy, bce_with_logits, cross_entropy, hinge_loss, l2_penalty, mse_loss
from gategrad.nn.modules import ACTIVATIONS, MLP, Layer, Module, Neuron, predict
from gategrad.nn.optim import SGD, Adam, AdamW, Optimizer
from gategrad.nn.record import Recorder
from gategrad.nn.train import Training, TrainingDiverged, fit

__all__ = [
    "ACTIVATIONS",
    "FORMAT",
    "FORMAT_VERSION",
    "MLP",
    "SGD",
    "Adam",
    "AdamW",
    "DataInfo",
    "Layer",
    "Module",
    "Neuron",
    "Optimizer",
    "Recorder",
    "Training",
    "TrainingDiverged",
    "accuracy",
    "bce_with_logits",
    "cross_entropy",
    "fit",
    "hinge_loss",
    "l2_penalty",
    "load",
    "mse_loss",
    "predict",
]
