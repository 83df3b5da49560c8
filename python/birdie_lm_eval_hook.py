"""Registers the lm-evaluation-harness model "birdie" in any Python that has the birdie
package installed, so that lm_eval's own command line finds it:

    lm_eval run --model birdie --model_args checkpoint=DIR,device=cuda --tasks arc_easy

`pip install .` puts this module and `birdie_lm_eval.pth` in site-packages; Python runs the
.pth's import line at start-up. Nothing is imported then: a finder on sys.meta_path waits
for lm_eval's model list (`lm_eval.models`) to be imported and adds "birdie" to lm_eval's
registry as a lazy entry, "birdie.lm_eval_model:BirdieLM", beside lm_eval's own models.
The engine is loaded only when a run asks for the model. Registering before lm_eval.models
exists would make lm_eval's registry non-empty and keep it from loading its own models.
"""

from __future__ import annotations

import importlib.abc
import sys

MODEL_NAME = "birdie"
MODEL_TARGET = "birdie.lm_eval_model:BirdieLM"
_WATCHED = "lm_eval.models"


def register() -> None:
    """Adds the lazy entry to lm_eval's model registry (once; a no-op when present)."""
    from lm_eval.api.registry import model_registry

    if MODEL_NAME not in model_registry:
        model_registry.register(MODEL_NAME, target=MODEL_TARGET)


class _RegisterAfterModels(importlib.abc.MetaPathFinder):
    """Finds nothing itself: on the import of lm_eval.models it asks the other finders for
    the module's spec and has its loader call register() after the module ran."""

    def find_spec(self, name, path, target=None):
        if name != _WATCHED:
            return None
        sys.meta_path.remove(self)  # one use; and the other finders do the finding
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find else None
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                run_module = spec.loader.exec_module

                def exec_module(module, _run=run_module):
                    _run(module)
                    register()

                spec.loader.exec_module = exec_module
                return spec
        return None


def install() -> None:
    if _WATCHED in sys.modules:  # lm_eval's models already listed (an import after start-up)
        register()
    elif not any(isinstance(f, _RegisterAfterModels) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterModels())


install()
