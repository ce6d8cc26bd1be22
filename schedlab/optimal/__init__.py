"""The exact baseline: batch placement as an integer program (``model``), solved with CP-SAT
or HiGHS (``solve``), with lower bounds on the nodes a set of pods needs (``bounds``). The
policy that uses them is ``schedlab.policies.Optimal``."""

from schedlab.optimal.bounds import capacity_bound, martello_toth_l2, nodes_lower_bound
from schedlab.optimal.model import OBJECTIVES, build, priority_weights
from schedlab.optimal.solve import SOLVERS, solve

__all__ = ["OBJECTIVES", "SOLVERS", "build", "capacity_bound", "martello_toth_l2",
           "nodes_lower_bound", "priority_weights", "solve"]
