"""The installed package: its layout, its commands, and no global state changed by importing it."""

import os
import subprocess
import sys

from tests.conftest import REPO


def _python(code, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND",)}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def test_export_installs_inside_the_package_not_as_a_top_level_export(tmp_path):
    # One fresh Python outside the repository: what `import` finds, then `python -m keras_colorizer.export --help`
    # as `-m` runs it (runpy), without a second TensorFlow start-up.
    result = _python(
        "import importlib.util as u, runpy, sys, keras_colorizer.export.folder as c, keras_colorizer.export.tflite\n"
        "print(u.find_spec('export'), c.__name__)\n"
        "sys.argv = ['__main__.py', '--help']\n"
        "runpy.run_module('keras_colorizer.export', run_name='__main__', alter_sys=True)", cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found, help_text = result.stdout.split("\n", 1)
    assert found.split() == ["None", "keras_colorizer.export.folder"]
    assert "usage: keras-colorizer export" in help_text and "--formats" in help_text


def test_importing_the_library_leaves_matplotlib_and_random_generators_alone(tmp_path):
    code = """
import random, sys
import numpy as np
import matplotlib
import keras  # importing TensorFlow draws from the global generators itself; not ours to change
backend = matplotlib.rcParams._get("backend")
random.seed(11); np.random.seed(11)
expected = (random.random(), float(np.random.rand()))
random.seed(11); np.random.seed(11)
import keras_colorizer, keras_colorizer.plots, keras_colorizer.run.training, keras_colorizer.evaluate
import keras_colorizer.run.callbacks, keras_colorizer.inference
from keras_colorizer.run.assemble import build_model
from keras_colorizer.run.options import TrainOptions
build_model(TrainOptions(generator="unet_128", levels=3, ngf=4, ndf=4, image_size=64), "rgb", steps_per_epoch=2)
got = (random.random(), float(np.random.rand()))
assert got == expected, (got, expected)
assert matplotlib.rcParams._get("backend") == backend
print("ok")
"""
    result = _python(code, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]
    # Keras itself imports pyplot; the library draws on Figure objects and never picks a backend.
    for folder in ("keras_colorizer", "export"):
        for root, _, files in os.walk(REPO / folder):
            for name in files:
                if name.endswith(".py"):
                    text = open(os.path.join(root, name)).read()
                    assert "import matplotlib.pyplot" not in text and "matplotlib.use(" not in text, name


def test_every_package_folder_is_installed():
    """setup.cfg lists packages by hand (export/ maps into keras_colorizer): none may be forgotten."""
    import configparser

    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    found = {
        os.path.relpath(root, REPO).replace(os.sep, ".")
        for root, _, files in os.walk(REPO / "keras_colorizer")
        if "__init__.py" in files
    }
    assert found | {"keras_colorizer.export"} == listed


# The flow, bottom to top: a module may import its own step or one below it, never one above (docs/design.md).
FLOW = (
    {"errors", "compat", "atomic", "crashpoints", "swap", "color", "signatures", "metrics", "plots"},  # foundations
    {"data"}, {"models"}, {"presets"}, {"gan"}, {"run"}, {"inference"}, {"evaluate"}, {"export"}, {"video"}, {"demo"},
    {"cli"},
)


def _step(module_parts):
    """Where a module (its dotted name's parts after keras_colorizer) stands in FLOW."""
    return next(i for i, names in enumerate(FLOW) if module_parts[0] in names)


def _package_imports(path):
    """Every keras_colorizer module `path` imports (top-level and inside functions), as lists of name parts."""
    import ast

    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "keras_colorizer":
            parts = node.module.split(".")[1:]
            yield from ([alias.name] for alias in node.names) if not parts else [parts]
        elif isinstance(node, ast.Import):
            yield from (alias.name.split(".")[1:] for alias in node.names if alias.name.startswith("keras_colorizer."))


def test_no_module_imports_a_step_later_in_the_flow():
    """data -> models -> presets -> gan -> run -> inference -> evaluate -> export -> video -> demo -> cli.
    Entry points (`__main__`) and the package's own `__init__` (its public names) stand above everything."""
    files = [(p, p.relative_to(REPO / "keras_colorizer").with_suffix("").parts) for p in (REPO / "keras_colorizer").rglob("*.py")]
    files += [(p, ("export", p.stem)) for p in (REPO / "export").glob("*.py")]
    climbing = []
    for path, parts in files:
        if parts[-1] == "__main__" or parts == ("__init__",):
            continue
        for imported in _package_imports(path):
            if _step(imported) > _step(parts):
                climbing.append(f"{'.'.join(parts)} imports {'.'.join(imported)}")
    assert not climbing, climbing
    assert _step(["cli"]) == len(FLOW) - 1 and _step(["data"]) == 1  # the test reads the real table
