"""Loading a user's plugin or policy class named on the command line (``--plugin``), so that
configurations and ``--policy`` can name it. Installed packages publish theirs as entry
points instead (``schedlab.framework.registry``)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from schedlab.errors import InputError
from schedlab.framework.plugin import Plugin
from schedlab.framework.profile import register_plugin
from schedlab.policies import register_policy
from schedlab.policies.base import Policy

EXPECTED = ("MODULE:CLASS or FILE.py:CLASS, naming a schedlab plugin class (FilterPlugin or "
            "ScorePlugin) or a Policy class")


def load_extension(spec: str) -> type[Plugin] | type[Policy]:
    """Import the class ``spec`` names ("my_plugins:PreferEmptyNodes", a module importable
    from the current directory or the path, or "path/to/file.py:PreferEmptyNodes") and
    register it by its ``name``: a plugin for configurations, a policy for ``--policy``.
    Raises ``InputError`` naming ``spec`` when it cannot."""
    location, colon, attribute = spec.rpartition(":")
    if not colon or not location or not attribute.isidentifier():
        raise InputError("--plugin", "value", spec, EXPECTED)
    module = _module(spec, location)
    found: Any = getattr(module, attribute, None)
    if isinstance(found, type) and issubclass(found, Plugin):
        return register_plugin(found)
    if isinstance(found, type) and issubclass(found, Policy):
        return register_policy(found)
    what = "nothing" if found is None else type(found).__name__
    raise InputError("--plugin", attribute, f"{what} in {location}", EXPECTED)


def _module(spec: str, location: str) -> ModuleType:
    """The module at ``location``: a ``.py`` file, or a module name importable with the
    current directory first on the path (as ``python -m`` has it)."""
    try:
        if location.endswith(".py"):
            path = Path(location)
            if not path.is_file():
                raise InputError("--plugin", "file", location, f"an existing file ({EXPECTED})")
            name = f"schedlab_user_{path.stem}"
            loader = importlib.util.spec_from_file_location(name, path)
            assert loader is not None and loader.loader is not None
            module = importlib.util.module_from_spec(loader)
            sys.modules[name] = module  # classes pickle for worker processes
            loader.loader.exec_module(module)
            return module
        if "" not in sys.path:
            sys.path.insert(0, "")
        return importlib.import_module(location)
    except InputError:
        raise
    except Exception as error:  # the user's module failed: say which and why, in one line
        raise InputError("--plugin", "module", spec,
                         f"an importable module ({type(error).__name__}: {error})") from None
