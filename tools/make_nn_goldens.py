#!/usr/bin/env python3
"""Goldens for KestrelNN's optimizers, schedules and safetensors I/O, produced by PyTorch and safetensors.

Writes Tests/Fixtures/nn/:
  optimizers.json      parameter values after each of 6 steps of every optimizer configuration, on the loss
                       L(p) = sum(a * p^2 + b * p) (so g = 2·a·p + b), float32, from torch.optim
  schedules.json       learning rates for 15 epochs from torch.optim.lr_scheduler
  python_written.safetensors + python_written.json
                       a file written by Python's safetensors (numpy), F32/F64/F16/I64 tensors with torchvision
                       state-dict names and metadata, and the values it holds (for Kestrel's reader test)
Then checks kestrel_written.safetensors (written by Kestrel's SafetensorsTests with KESTREL_WRITE_GOLDENS=1)
loads in Python with the values Kestrel's recipe defines.

Needs: pip install -r tools/requirements.txt (torch from a CPU wheel, safetensors, numpy).
Run from the repository root:
  KESTREL_WRITE_GOLDENS=1 swift test -c release --filter SafetensorsTests   # Kestrel writes its file
  python3 tools/make_nn_goldens.py
"""
import json
import os

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "nn")

P0 = [0.5, -1.25, 2.0, 0.1, -0.3, 1.7]
A = [1.0, 0.5, 2.0, 0.1, 3.0, 0.7]
B = [0.2, -0.4, 0.0, 1.0, -0.1, 0.3]
STEPS = 6


def run(make_opt, clip_norm=None, clip_value=None):
    p = torch.nn.Parameter(torch.tensor(P0, dtype=torch.float32))
    a = torch.tensor(A, dtype=torch.float32)
    b = torch.tensor(B, dtype=torch.float32)
    opt = make_opt([p])
    out = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = (a * p * p + b * p).sum()
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_([p], clip_norm)
        if clip_value is not None:
            torch.nn.utils.clip_grad_value_([p], clip_value)
        opt.step()
        out.append([float(v) for v in p.detach().numpy()])
    return out


def optimizers():
    O = torch.optim
    cases = {
        "sgd": run(lambda ps: O.SGD(ps, lr=0.1)),
        "sgd_weight_decay": run(lambda ps: O.SGD(ps, lr=0.1, weight_decay=0.05)),
        "momentum": run(lambda ps: O.SGD(ps, lr=0.05, momentum=0.9)),
        "nesterov": run(lambda ps: O.SGD(ps, lr=0.05, momentum=0.9, nesterov=True)),
        "adagrad": run(lambda ps: O.Adagrad(ps, lr=0.3)),
        "rmsprop": run(lambda ps: O.RMSprop(ps, lr=0.01, alpha=0.99)),
        "adam": run(lambda ps: O.Adam(ps, lr=0.05)),
        "adam_weight_decay": run(lambda ps: O.Adam(ps, lr=0.05, weight_decay=0.1)),
        "adamw": run(lambda ps: O.AdamW(ps, lr=0.05, weight_decay=0.1)),
        "sgd_clip_norm": run(lambda ps: O.SGD(ps, lr=0.1), clip_norm=0.5),
        "sgd_clip_value": run(lambda ps: O.SGD(ps, lr=0.1), clip_value=0.3),
    }
    return dict(p0=P0, a=A, b=B, steps=STEPS, torch=torch.__version__, cases=cases)


def schedules():
    S = torch.optim.lr_scheduler

    def rates(make, base=0.1, epochs=15):
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=base)
        sched = make(opt)
        out = []
        for _ in range(epochs):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out

    return dict(base=0.1, cases={
        "step": rates(lambda o: S.StepLR(o, step_size=3, gamma=0.5)),
        "multistep": rates(lambda o: S.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.1)),
        "cosine": rates(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
        "warmup_cosine": rates(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=4),
                                                              S.CosineAnnealingLR(o, T_max=8, eta_min=0.0)],
                                                          milestones=[4])),
    })


def kestrel_recipe():
    """The tensors Kestrel's SafetensorsTests writes: value i of tensor k is (i - 3) * 0.25 + k, exact in f32."""
    shapes = {"conv1.weight": [4, 3, 3, 3], "bn1.weight": [4], "bn1.running_mean": [4], "fc.bias": [10]}
    out = {}
    for k, (name, shape) in enumerate(shapes.items()):
        n = int(np.prod(shape))
        out[name] = ((np.arange(n, dtype=np.float32) - 3) * 0.25 + k).reshape(shape)
    out["bn1.num_batches_tracked"] = np.array(7, dtype=np.int64)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "optimizers.json"), "w") as f:
        json.dump(optimizers(), f, indent=1)
    with open(os.path.join(OUT, "schedules.json"), "w") as f:
        json.dump(schedules(), f, indent=1)
    rng = np.random.default_rng(3)
    tensors = {
        "layer1.0.conv1.weight": rng.standard_normal((2, 3, 3, 3)).astype(np.float32),
        "layer1.0.bn1.running_var": rng.random(2).astype(np.float64),
        "fc.weight": rng.standard_normal((3, 2)).astype(np.float16),
        "layer1.0.bn1.num_batches_tracked": np.array(42, dtype=np.int64),
    }
    save_file(tensors, os.path.join(OUT, "python_written.safetensors"), metadata={"source": "make_nn_goldens.py"})
    with open(os.path.join(OUT, "python_written.json"), "w") as f:
        json.dump({k: dict(shape=list(v.shape), values=[float(x) for x in v.astype(np.float64).ravel()])
                   for k, v in tensors.items()}, f, indent=1)
    ours = os.path.join(OUT, "kestrel_written.safetensors")
    if os.path.exists(ours):
        loaded = load_file(ours)
        expected = kestrel_recipe()
        assert set(loaded) == set(expected), (sorted(loaded), sorted(expected))
        for k, v in expected.items():
            assert loaded[k].dtype == v.dtype and loaded[k].shape == v.shape, k
            assert np.array_equal(loaded[k], v), k
        print("kestrel_written.safetensors loads in Python's safetensors with the expected values")
    else:
        print("kestrel_written.safetensors missing: run the Swift test with KESTREL_WRITE_GOLDENS=1 first")


if __name__ == "__main__":
    main()
