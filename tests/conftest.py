"""Hypothesis settings profiles: ``dev`` (50 examples) and ``ci`` (25, derandomized).

Select one with the environment variable HYPOTHESIS_PROFILE; without it, ``ci`` is used when
CI is set and ``dev`` otherwise. No profile has a deadline: numpy's first calls are slow.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=25, derandomize=True, deadline=None,
                          print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI") else "dev"))
