"""Run one tutorial program with `import torch` meaning real torch or gradkit; save its final tensors.

    python tests/tutorials/run.py {torch|gradkit} PROGRAM.py OUT.pkl

With ``gradkit``, every ``import torch`` / ``import torch.X`` inside the program
loads ``gradkit`` / ``gradkit.X`` instead: the program text stays PyTorch's.
The program's stdout is its printed output; OUT.pkl gets {name: numpy array} for
every tensor (and every module parameter) left in its global namespace.
"""
import importlib
import importlib.abc
import importlib.util
import pickle
import sys

import numpy as np


class _TorchIsGradkit(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname == "torch" or fullname.startswith("torch."):
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module("gradkit" + spec.name[len("torch"):])

    def exec_module(self, module):
        pass


def _final_tensors(namespace, torch):
    found = {}
    for name, value in namespace.items():
        if isinstance(value, torch.Tensor):
            found[name] = np.array(value.detach().tolist())
        elif isinstance(value, torch.nn.Module):
            for param_name, param in value.named_parameters():
                found[f"{name}.{param_name}"] = np.array(param.detach().tolist())
    return found


def main(library, program, out):
    if library == "gradkit":
        sys.meta_path.insert(0, _TorchIsGradkit())
    source = open(program, encoding="utf-8").read()
    namespace = {"__name__": "__main__", "__file__": program}
    exec(compile(source, program, "exec"), namespace)
    import torch
    with open(out, "wb") as f:
        pickle.dump(_final_tensors(namespace, torch), f)


if __name__ == "__main__":
    main(*sys.argv[1:])
