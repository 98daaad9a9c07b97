"""Unit tests run two processes on two cores (``pytest -n 2``): one torch thread each,
or the threads of the two processes fight over the cores (measured: a small training
step is about 20 times slower with two threads per process on a busy machine)."""

import torch

torch.set_num_threads(1)
