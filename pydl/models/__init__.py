"""Models the Keras way: ``Sequential([...])`` or ``Model(inputs, outputs)``, ``compile``,
``fit``, ``evaluate``, ``predict``.

``Model`` holds the training loop (compile/fit/evaluate/predict, weights, trainable, saving);
its two subclasses only say how layers are wired: ``Sequential`` (a stack) and ``Functional``
(a graph of layer calls on symbolic tensors, what ``Model(inputs, outputs)`` makes). A model
is a layer too, so models nest (``Sequential([generator, discriminator])``).

model.py holds the base class (the training loop), sequential.py and functional.py the two
wirings, as Keras 3's models/ package does; subclassing.py the third way (a Model subclass with
its own call), custom_step.py fit and evaluate around a custom train_step / test_step, and
rbm.py the restricted Boltzmann machine with greedy pretraining.
"""
from .model import Model  # noqa: F401
from .sequential import Sequential  # noqa: F401
from .functional import Functional  # noqa: F401
from .rbm import RBM, pretrain_stack, unroll  # noqa: F401  (issue 10)
from ..saving import load_model, save_model, load_weights, save_weights, clone_model  # noqa: F401
