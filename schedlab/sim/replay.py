"""``replay``: a trace over time, event by event, through a placement policy.

The clock jumps from one event time to the next. At each time, in this order:

1. departures: pods whose duration ends, deletions (a pending pod leaves the queue, a running
   one starts terminating), evictions of pods whose toleration of a failed node ran out;
2. node events, in trace order (``node-add``, ``node-remove``, ``node-fail``,
   ``node-recover``, ``cordon``, ``uncordon``, ``drain``);
3. arrivals in trace order, then backoff expiries;
4. the scheduling queue runs (``schedlab.sim.queue``): pods are tried one at a time in
   PrioritySort order until none is ready (a policy that plans, such as ``Optimal``, gets
   the whole ready batch at once), every bind changing the cluster before the next pod.

Only the replay writes the cluster state. The nodes a policy sees are those present (added
and not removed); a cordoned node is ``spec.unschedulable`` (NodeUnschedulable); a failed
node carries the ``node.kubernetes.io/unreachable`` NoSchedule and NoExecute taints, so it
takes no pod that does not tolerate them, and each of its pods is evicted once its
toleration of the NoExecute taint runs out: its own ``tolerationSeconds``, else 300 s
(DefaultTolerationSeconds), never for a pod tolerating it without a limit (DaemonSet pods).
``drain`` cordons the node and evicts every pod but DaemonSet pods; ``node-remove`` takes its
pods with it. Evicted pods leave at once (no grace period). A node event hands the policy a
new snapshot: it is reset on the new node list (its random generator goes on).

With a policy that searches with Greedy's compiled cycle, stretches of instants are replayed
in one compiled call (``sim.replay_runs``), with the same results.

A pending pod that fits nowhere waits among the unschedulable pods (``queue="retry"``) and is
moved back when the cluster changes in a way that may help it: a pod leaving a node, a node
added, uncordoned or recovered; a bind moves only pods with required pod affinity or hard
spreading constraints (kube's AssignedPodAdd). With ``queue="fail"`` it fails at once, as in
``simulate`` and the FGD paper's simulator.
"""

from __future__ import annotations

import heapq
import math
import time
from array import array
from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np

from schedlab import resources
from schedlab.caches import IdCache
from schedlab.cluster import ClusterState
from schedlab.errors import SchedlabError
from schedlab.gpu import fits
from schedlab.matching import tolerates
from schedlab.objects import Node, Pod, PodTemplate, Taint, Toleration
from schedlab.policies.base import Decision, Policy
from schedlab.sim.controllers import Controllers
from schedlab.sim.queue import GENERATIONS, QueueMode, SchedulingQueue, helped_by_binds
from schedlab.sim.replay_runs import Departures, ReplayRuns
from schedlab.sim.results import (
    EVICTED,
    FAILED,
    HELD,
    PENDING,
    RUNNING,
    SUCCEEDED,
    WAITING,
    Recorder,
    ReplayResult,
)
from schedlab.traces.controllers import target_node
from schedlab.traces.trace import TERMINATION_GRACE_SECONDS, Trace

QUEUE_MODES: tuple[str, ...] = ("retry", "fail")
UNREACHABLE_KEY = "node.kubernetes.io/unreachable"
FAILED_NODE_TAINTS: tuple[Taint, ...] = (
    Taint(UNREACHABLE_KEY, "", "NoSchedule"), Taint(UNREACHABLE_KEY, "", "NoExecute"))
"""What the node lifecycle controller puts on a node that stops reporting."""
DEFAULT_TOLERATION_SECONDS = 300
"""The NoExecute toleration of not-ready/unreachable the API server gives every pod without
its own (the DefaultTolerationSeconds admission plugin)."""

# heap phases within one instant
DEPART, NODE, ARRIVE, RUN_QUEUE = range(4)

Observer = Callable[[float, ClusterState, Mapping[str, Pod], Pod, Decision], None]
"""Called just before every bind: (time, state, the pods bound in it by key, the pod, the
decision), for checks against the cluster as it was."""


def eviction_delay(tolerations: tuple[Toleration, ...]) -> float | None:
    """Seconds a pod stays on a failed node (None: for ever): the least
    ``tolerationSeconds`` of its tolerations of the unreachable NoExecute taint (<= 0: at
    once), for ever if those tolerate it without a limit, 300 s if none tolerates it."""
    taint = FAILED_NODE_TAINTS[1]
    matching = [t for t in tolerations if tolerates(t, taint)]
    if not matching:
        return float(DEFAULT_TOLERATION_SECONDS)
    limits = [t.seconds for t in matching if t.seconds is not None]
    if not limits:
        return None
    return float(max(min(limits), 0))


class Replay:
    """One run of a trace through a policy; ``run()`` returns the ``ReplayResult``."""

    def __init__(self, trace: Trace, policy: Policy, seed: int = 0, *,
                 queue: QueueMode = "retry", until: float | None = None,
                 window: float | None = None, batch: int | None = None,
                 bucket: float | None = None, observe: Observer | None = None,
                 progress: Callable[[float], None] | None = None) -> None:
        if queue not in QUEUE_MODES:
            raise SchedlabError(f"replay: queue {queue!r}: expected retry or fail")
        for name, value in (("until", until), ("window", window), ("bucket", bucket)):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise SchedlabError(f"replay: {name} {value!r}: expected finite seconds >= 0")
        if batch is not None and batch < 1:
            raise SchedlabError(f"replay: batch {batch!r}: expected a count >= 1")
        self.trace, self.policy, self.seed = trace, policy, seed
        self.mode = queue
        self.until = until
        self.window = policy.batch_window if window is None else window
        self.batch = batch
        self.observe, self.progress = observe, progress
        workload = trace.workload
        self.nodes = workload.nodes
        self.node_index = {n.name: g for g, n in enumerate(self.nodes)}
        added = {e.node for e in trace.events if e.kind == "node-add"}
        self.present = np.array([n.name not in added for n in self.nodes], dtype=bool)
        self.cordoned = np.array([n.unschedulable for n in self.nodes], dtype=bool)
        self.failed = [False] * len(self.nodes)
        self.n_failed = 0
        self.fail_generation = np.zeros(len(self.nodes), dtype=np.int64)
        self.on_node: list[dict[int, None]] | None = (
            [{} for _ in self.nodes] if trace.events else None)
        """Per node, its pods in the order they were bound (for node events; None without)."""
        templates = {id(p.template): p.template for p in workload.pods}.values()
        used = {r for t in templates for r in t.requests} | {
            r for c in trace.controllers if c.template is not None for r in c.template.requests}
        used |= {r for n in self.nodes for r in n.allocatable}  # (every view: one set)
        self.extended = sorted(r for r in used if resources.is_extended(r))
        """The extended resources of every view of the cluster (those the pods ask for or
        some node, present or not, has), so that node events keep the resource columns."""
        self.rng = np.random.default_rng(seed)
        self.queue = SchedulingQueue()
        self.heap: list[tuple[float, int, int, int, int]] = []
        """(time, phase, sequence, action, pod id or token), but the running pods' ends."""
        self.departures = Departures(min(len(workload.pods), 1 << 16))
        """The running pods' ends (in the DEPART phase, ordered by sequence as the heap)."""
        self.seq = 0
        """The last sequence number given to an entry of the heap or of ``departures``."""
        self.python_untimed = 0
        """Entries of the heap other than queue timers."""
        self.runs: ReplayRuns | None = None
        self.next_arrival = 0
        """The next trace pod to arrive (trace pods come first in ``pods``)."""
        self.peaks = {"pending": 0, "active": 0, "backing_off": 0}
        """The most pods pending, ready in the queue and backing off after an instant."""
        self.queue_due: float | None = None
        """The instant a run stopped at while the queue ran: it runs on there."""
        # per pod incarnation (the id), as compact columns
        self.pods: list[Pod] = []
        self.status = array("b")
        self.arrival, self.start, self.end = array("d"), array("d"), array("d")
        self.duration, self.deletion = array("d"), array("d")
        self.node = array("q")
        self.incarnation = array("q")
        self.reason: list[str | None] = []
        self.gpus: dict[int, tuple[int, ...]] = {}
        self.terminating: set[int] = set()
        self.latest: dict[str, int] = {}
        """Pod key → its latest incarnation's id."""
        self.running: dict[int, None] = {}
        self.bound_pods: dict[str, Pod] = {}
        self.pending = 0
        self.now = 0.0
        self.events = 0
        self.recorder = Recorder(self, bucket)
        self.controllers = Controllers(trace, self)
        deletion = np.asarray(trace.deletion)  # (an array once the Trace is made)
        for row, pod in enumerate(workload.pods):
            self._new(pod, float(trace.arrival[row]), float(trace.duration[row]),
                      float(deletion[row]), incarnation=0)
        self._plans = type(policy).plan is not Policy.plan
        self._bind_helped: IdCache[int, bool] = IdCache()
        """id(template) → whether a bind can make its pods schedulable."""
        self.state = self._snapshot()
        self.policy.reset(self.state, self.rng)
        self.runs = ReplayRuns.of(self)

    # ------------------------------------------------------------------ pods
    def _new(self, pod: Pod, arrival: float, duration: float, deletion: float,
             incarnation: int) -> int:
        pod_id = len(self.pods)
        self.pods.append(pod)
        self.status.append(WAITING)
        self.arrival.append(arrival)
        self.start.append(math.nan)
        self.end.append(math.nan)
        self.duration.append(duration)
        self.deletion.append(deletion)
        self.node.append(-1)
        self.incarnation.append(incarnation)
        self.reason.append(None)
        self.latest[pod.key] = pod_id
        self.controllers.register(pod_id, pod)
        if self.runs is not None:
            self.runs.new_pod(pod_id, pod)
        if not math.isnan(deletion):  # after the arrivals of its instant: it is seen
            self._push(deletion, ARRIVE, _DELETE, pod_id)
        return pod_id

    def live(self, pod: int) -> bool:
        return self.status[pod] <= RUNNING and pod not in self.terminating

    def waiting(self, pod: int) -> bool:
        return self.status[pod] <= PENDING

    def submit(self, pod: Pod, duration: float, incarnation_of: int | None = None) -> int:
        """A controller creates ``pod`` now; it arrives at once."""
        incarnation = 0 if incarnation_of is None else self.incarnation[incarnation_of] + 1
        deletion = math.nan if incarnation_of is None else self.deletion[incarnation_of]
        if not deletion >= self.now:  # (deleted later this instant: it leaves the queue)
            deletion = math.nan
        pod_id = self._new(pod, self.now, duration, deletion, incarnation)
        self._arrive(pod_id)
        return pod_id

    def release(self, pod: int) -> None:
        self.status[pod] = PENDING
        self.queue.add(pod, self.pods[pod].template.priority, self.now)

    def _push(self, at: float, phase: int, action: int, value: int) -> None:
        self.seq += 1
        self.python_untimed += action != _TIMER
        heapq.heappush(self.heap, (at, phase, self.seq, action, value))

    @staticmethod
    def is_timer(entry: tuple[float, int, int, int, int]) -> bool:
        """Whether an entry of ``heap`` is a queue timer."""
        return entry[3] == _TIMER

    @staticmethod
    def timer(at: float, seq: int, token: int) -> tuple[float, int, int, int, int]:
        """The entry of ``heap`` of a queue timer due ``at``, numbered ``seq``, for
        ``token`` (pod id × GENERATIONS + generation)."""
        return (at, ARRIVE, seq, _TIMER, token)

    def _arrive(self, pod_id: int) -> None:
        pod = self.pods[pod_id]
        self.pending += 1
        if pod.template.node_name is not None:
            self._bind_named(pod_id)
        elif self.controllers.hold(pod_id, pod):
            self.status[pod_id] = HELD
        else:
            self.release(pod_id)

    def _bind_named(self, pod_id: int) -> None:
        """A pod whose template names its node is bound there by the kubelet (on the
        tightest GPUs that fit) if the node is present and has room; else it fails."""
        pod = self.pods[pod_id]
        name = pod.template.node_name
        g = self.node_index.get(name or "")
        if g is None or not self.present[g]:
            reason = f"node {name} is not in the cluster"
        else:
            node, state = int(self.view_of[g]), self.state
            requests = state.requests_of(pod).requested
            room = (state.requested[node] + requests <= state.allocatable[node]) | (requests == 0)
            gpu = pod.template.gpu
            if (room.all() and state.pod_count[node] < state.allowed_pods[node]
                    and (gpu is None or fits(state, gpu, np.array([node]))[0])):
                self._bind(pod_id, Decision(node))
                return
            reason = f"node {name} has no room for it (kubelet admission)"
        self.recorder.decision(pod_id, -1, reason)
        self._finish(pod_id, FAILED, reason)

    # ------------------------------------------------------------------ the cluster view
    def _node_now(self, g: int) -> Node:
        node = self.nodes[g]
        if self.cordoned[g] != node.unschedulable:
            node = replace(node, unschedulable=bool(self.cordoned[g]))
        if self.failed[g]:
            node = replace(node, taints=node.taints + FAILED_NODE_TAINTS)
        return node

    def _snapshot(self) -> ClusterState:
        """A state over the present nodes as they are now, with the running pods bound."""
        present = np.flatnonzero(self.present)
        self.view_of = np.full(len(self.nodes), -1, dtype=np.int64)
        self.view_of[present] = np.arange(len(present))
        self.global_array = present.astype(np.int64)
        """int64 (nodes in the view,): view index → global node index."""
        self.global_of: list[int] = present.tolist()
        """``global_array`` as a list."""
        state = ClusterState([self._node_now(int(g)) for g in present], self.extended,
                             self.trace.workload.objects)
        state.workload_pods = self.trace.workload.pods
        for pod_id in self.running:
            pod = self.pods[pod_id]
            state.bind(pod, int(self.view_of[self.node[pod_id]]), self.gpus.get(pod_id))
            if pod_id in self.terminating:
                state.terminate(pod)
        self._dirty = False
        self.recorder.snapshot(state)
        return state

    def _refresh(self) -> None:
        """A new cluster view after node events (``_dirty``), and the policy reset on it."""
        self.state = self._snapshot()
        self.policy.reset(self.state, self.rng)

    # ------------------------------------------------------------------ binds and ends
    def _bind(self, pod_id: int, decision: Decision) -> None:
        pod = self.pods[pod_id]
        node, state, now = decision.node, self.state, self.now
        assert node is not None
        if self.observe is not None:
            self.observe(now, state, self.bound_pods, pod, decision)
        state.bind(pod, node, decision.devices(state, pod))
        g = self.global_of[node]
        self.recorder.bound(pod, node)
        self.status[pod_id] = RUNNING
        self.start[pod_id] = now
        self.node[pod_id] = g
        self.pending -= 1
        key = pod.key
        if pod.template.gpu is not None and key in state.gpus_of:
            self.gpus[pod_id] = state.gpus_of[key]
        self.running[pod_id] = None
        if self.observe is not None:
            self.bound_pods[key] = pod
        if self.on_node is not None:
            self.on_node[g][pod_id] = None
        if self.runs is not None:
            self.runs.bound(pod_id)
        self._schedule_end(pod_id)
        if self.failed[g]:
            self._schedule_eviction(pod_id, g)
        self.controllers.started(pod, self.pods.__getitem__)

    def _schedule_end(self, pod_id: int) -> None:
        ends = self.start[pod_id] + self.duration[pod_id]
        if pod_id in self.terminating:
            ends = min(ends, self.deletion[pod_id] + TERMINATION_GRACE_SECONDS) \
                if not math.isnan(ends) else self.deletion[pod_id] + TERMINATION_GRACE_SECONDS
        if not math.isnan(ends):
            self.seq += 1
            self.departures.push(max(ends, self.now), self.seq, pod_id)

    def _schedule_eviction(self, pod_id: int, g: int) -> None:
        delay = eviction_delay(self.pods[pod_id].template.tolerations)
        if delay is not None:
            token = pod_id * GENERATIONS + int(self.fail_generation[g]) % GENERATIONS
            self._push(self.now + delay, DEPART, _EVICT, token)

    def _unbind(self, pod_id: int) -> None:
        pod = self.pods[pod_id]
        node = self.state.unbind(pod)
        self.recorder.unbound(pod, node)
        del self.running[pod_id]
        if self.observe is not None:
            del self.bound_pods[pod.key]
        if self.on_node is not None:
            del self.on_node[self.node[pod_id]][pod_id]
        self.terminating.discard(pod_id)
        self.queue.move(self.now)

    def _finish(self, pod_id: int, status: int, reason: str | None = None) -> None:
        """Pod ``pod_id`` reaches its final ``status`` now."""
        was = self.status[pod_id]
        deleted = pod_id in self.terminating  # its end is the trace's: not replaced
        if was == RUNNING:
            self._unbind(pod_id)
            self.end[pod_id] = self.now
        elif was in (PENDING, HELD):
            self.pending -= 1
            self.queue.remove(pod_id)
            self.controllers.forget_held(pod_id, self.pods[pod_id])
            self.queue.forget(pod_id)  # (a running pod's was forgotten when it was bound)
        self.status[pod_id] = status
        self.reason[pod_id] = reason
        pod = self.pods[pod_id]
        self.controllers.ended(pod, self.pods.__getitem__)
        if status == SUCCEEDED:
            self.controllers.succeeded(pod_id, pod)
        elif status == EVICTED and not deleted:
            self.controllers.lost(pod_id, pod, self.duration[pod_id])

    def _evict(self, pod_id: int, reason: str) -> None:
        self._finish(pod_id, EVICTED, reason)

    # ------------------------------------------------------------------ heap actions
    def _act(self, action: int, value: int) -> None:
        if action == _END:
            if self.status[value] == RUNNING:
                self.events += 1
                self._finish(value, SUCCEEDED)
        elif action == _DELETE:
            self._delete(value)
        elif action == _EVICT:
            pod_id, generation = divmod(value, GENERATIONS)
            g = self.node[pod_id]
            if (self.status[pod_id] == RUNNING and self.failed[g]
                    and self.fail_generation[g] % GENERATIONS == generation):
                self.events += 1
                self._evict(pod_id, "node failed: its not-ready/unreachable toleration "
                            "expired")
        elif action == _TIMER:
            pod_id, generation = divmod(value, GENERATIONS)
            self.queue.expire(pod_id, generation, self.now)
        elif action == _RUN:
            self._window_due, self._run_pending = True, False

    def _delete(self, pod_id: int) -> None:
        status = self.status[pod_id]
        if status in (PENDING, HELD):
            self.events += 1
            self._finish(pod_id, FAILED, "deleted while pending")
        elif status == RUNNING and pod_id not in self.terminating:
            self.events += 1
            self.terminating.add(pod_id)
            if self.runs is not None:
                self.runs.terminating(pod_id)
            self.state.terminate(self.pods[pod_id])
            self._schedule_end(pod_id)

    # ------------------------------------------------------------------ node events
    def _on(self, g: int) -> dict[int, None]:
        """The pods on node ``g``, in the order they were bound (kept with node events)."""
        assert self.on_node is not None  # (a trace with node events keeps them)
        return self.on_node[g]

    def _node_event(self, kind: str, g: int) -> None:
        self._dirty = True
        node_name = self.nodes[g].name
        if kind == "node-add":
            if self.present[g]:
                return
            self.present[g] = True  # registered afresh: as its spec says, healthy
            self.cordoned[g] = self.nodes[g].unschedulable
            if self.failed[g]:
                self._set_failed(g, False)
            self.queue.move(self.now)
            self.controllers.node_added(self._node_now(g))
        elif kind == "node-remove":
            for pod_id in list(self._on(g)):
                self._evict(pod_id, f"node {node_name} removed")
            for pod_id in self.queue.pending():  # the DaemonSet's pod for it goes too
                pod = self.pods[pod_id]
                if (pod.owner is not None and pod.owner.kind == "DaemonSet"
                        and target_node(pod) == node_name):
                    self._finish(pod_id, FAILED, f"node {node_name} removed")
            self.present[g] = False
        elif kind == "node-fail":
            if not self.failed[g]:
                self._set_failed(g, True)
                for pod_id in self._on(g):
                    self._schedule_eviction(pod_id, g)
        elif kind == "node-recover":
            if self.failed[g]:
                self._set_failed(g, False)
                self.queue.move(self.now)
        elif kind == "cordon":
            self.cordoned[g] = True
        elif kind == "uncordon":
            if self.cordoned[g]:
                self.cordoned[g] = False
                self.queue.move(self.now)
        elif kind == "drain":
            self.cordoned[g] = True
            for pod_id in list(self._on(g)):
                owner = self.pods[pod_id].owner
                if owner is None or owner.kind != "DaemonSet":
                    self._evict(pod_id, f"node {node_name} drained")

    def _set_failed(self, g: int, failed: bool) -> None:
        """Node ``g`` fails or recovers (a recovery starts a new generation of it)."""
        self.failed[g] = failed
        self.n_failed += 1 if failed else -1
        if not failed:
            self.fail_generation[g] += 1

    # ------------------------------------------------------------------ the queue
    def _helped_by_binds(self, pod: Pod) -> bool:
        template = pod.template
        helped = self._bind_helped.get(id(template))
        if helped is None:
            helped = self._bind_helped.put(id(template), helped_by_binds(template), template)
        return helped

    def _run_queue(self) -> None:
        queue = self.queue
        while queue.active:
            if not self._plans:
                self._attempt(queue.pop())
                continue
            batch = queue.pop_all()
            self.policy.plan([self.pods[i] for i in batch])
            for pod_id in batch:
                self._attempt(pod_id)

    def _attempt(self, pod_id: int) -> None:
        pod = self.pods[pod_id]
        decision = self.policy.place(pod)
        if decision.node is not None:
            self.recorder.decision(pod_id, self.global_of[decision.node], None)
            self._bind(pod_id, decision)
            self.queue.forget(pod_id)
            self.queue.move(self.now, binds_only=True)
            return
        self.recorder.decision(pod_id, -1, decision.reason)
        if self.mode == "fail":
            self._finish(pod_id, FAILED, decision.reason)
        else:
            self.reason[pod_id] = decision.reason
            self.queue.failed(pod_id, self.now, self._helped_by_binds(pod))

    def _schedule_timers(self) -> None:
        for at, pod_id, generation in self.queue.timers:
            self._push(at, ARRIVE, _TIMER, pod_id * GENERATIONS + generation % GENERATIONS)
        self.queue.timers.clear()

    # ------------------------------------------------------------------ the clock
    def _pop_heap(self, now: float, phase: int) -> None:
        """Act on the entries of the heap and of ``departures`` due by ``now`` in phases up
        to ``phase``, in (time, phase, sequence) order."""
        heap, departures = self.heap, self.departures
        while True:
            python_due = bool(heap) and heap[0][0] <= now and heap[0][1] <= phase
            departure_due = bool(len(departures)) and departures.times[0] <= now
            if departure_due and python_due:
                at, seq = departures.first()
                departure_due = (at, DEPART, seq) < heap[0][:3]
            if departure_due:
                self._act(_END, departures.pop())
            elif python_due:
                _, _, _, action, value = heapq.heappop(heap)
                self.python_untimed -= action != _TIMER
                self._act(action, value)
            else:
                return
            if self.queue.timers:
                self._schedule_timers()

    def take_run(self, binds: np.ndarray, unbinds: np.ndarray, templates: list[PodTemplate],
                 changes: np.ndarray, tally_changes: int) -> None:
        """The books of a compiled run (``replay_runs``), which set its pods' states, times
        and nodes and the cluster's arrays itself: its binds and unbinds (int64 (k, 3): pod
        id, node index in the view, index of its template in ``templates``), in order, the
        nodes of both in order (int64), and how many of them changed tallies."""
        for pod_id in unbinds[:, 0].tolist():
            self.reason[pod_id] = None  # (it succeeded: an earlier attempt's reason goes)
        status = np.frombuffer(self.status, dtype=np.int8)
        staying = binds[status[binds[:, 0]] == RUNNING]
        gone = unbinds[~np.isin(unbinds[:, 0], binds[:, 0])]  # (bound before the run)
        gone_ids, staying_ids = gone[:, 0].tolist(), staying[:, 0].tolist()
        running = self.running
        for pod_id in gone_ids:
            del running[pod_id]
        running.update(dict.fromkeys(staying_ids))
        pods, global_of = self.pods, self.global_of
        if self.observe is not None:
            for pod_id in gone_ids:
                del self.bound_pods[pods[pod_id].key]
            self.bound_pods.update((pods[pod_id].key, pods[pod_id]) for pod_id in staying_ids)
        if self.on_node is not None:
            for pod_id, view, _ in gone.tolist():
                del self.on_node[global_of[view]][pod_id]
            for pod_id, view, _ in staying.tolist():
                self.on_node[global_of[view]][pod_id] = None
        moves = [(template, staying[staying[:, 2] == c, 1], gone[gone[:, 2] == c, 1])
                 for c, template in enumerate(templates)]
        self.state.account_run([pods[p].key for p in staying_ids], staying[:, 1],
                               [pods[p].key for p in gone_ids], moves, changes, tally_changes)

    def run(self) -> ReplayResult:
        """Replay the whole trace (or up to ``until``) and return the result."""
        self._window_due = self._run_pending = False
        events, heap, queue, recorder = self.trace.events, self.heap, self.queue, self.recorder
        departures, runs = self.departures, self.runs
        arrival, status, until = self.arrival, self.status, self.until
        event_times = [e.time for e in events]
        n_trace, n_events = len(self.trace.workload.pods), len(events)
        next_event = 0
        last = math.inf if until is None else until
        started = time.perf_counter()
        while True:  # (one event time per turn: the checks inline, the work in methods)
            if self.queue_due is not None:  # (the rest of an instant a run stopped in)
                now, self.queue_due = self.queue_due, None
                self._run_queue()
                self._end_instant(now)
                continue
            now = arrival[self.next_arrival] if self.next_arrival < n_trace else math.inf
            if next_event < n_events and event_times[next_event] < now:
                now = event_times[next_event]
            if len(departures) and departures.times[0] < now:
                now = float(departures.times[0])
            if heap and heap[0][0] < now and (self.python_untimed or len(departures)
                                              or queue.backing_off or queue.active):
                # (when only the timers of unschedulable pods are left, nothing can change)
                now = heap[0][0]
            if now == math.inf or now > last:
                break
            if runs is not None and not self.n_failed and runs.run(
                    now, min(event_times[next_event] if next_event < n_events else math.inf,
                             recorder.run_horizon), last):
                continue
            recorder.advance(now)
            self.now = now
            if (heap and heap[0][0] <= now) or (len(departures) and departures.times[0] <= now):
                self._pop_heap(now, DEPART)
            while next_event < n_events and event_times[next_event] <= now:
                event = events[next_event]
                next_event += 1
                self.events += 1
                self._node_event(event.kind, self.node_index[event.node])
                self._pop_heap(now, NODE)
            if self._dirty:
                self._refresh()
            while self.next_arrival < n_trace and arrival[self.next_arrival] <= now:
                if status[self.next_arrival] == WAITING:
                    self.events += 1
                    self._arrive(self.next_arrival)
                self.next_arrival += 1
            if (heap and heap[0][0] <= now) or (len(departures) and departures.times[0] <= now):
                self._pop_heap(now, RUN_QUEUE)
            if self._dirty:
                self._refresh()
            if self.window:
                if self._queue_due(now):
                    self._run_queue()
            elif queue.active:
                self._run_queue()
            self._end_instant(now)
        end = self.now if self.until is None else self.until
        self.recorder.advance(end)
        seconds = time.perf_counter() - started
        return self.recorder.result(end, seconds)

    def _end_instant(self, now: float) -> None:
        """The instant's last steps: its queue timers scheduled, the peaks, a timeline row,
        progress."""
        queue, peaks = self.queue, self.peaks
        if queue.timers:
            self._schedule_timers()
        if self.pending:  # (the queue's counts are at most the pending pods)
            peaks["pending"] = max(peaks["pending"], self.pending)
            peaks["active"] = max(peaks["active"], queue.active)
            peaks["backing_off"] = max(peaks["backing_off"], queue.backing_off)
        self.recorder.sample(now)
        if self.progress is not None:
            self.progress(now)

    def _queue_due(self, now: float) -> bool:
        """With a window: whether the scheduler runs now, at its boundaries (or once
        ``batch`` pods are ready)."""
        due = self._window_due or (self.batch is not None and self.queue.active >= self.batch)
        if due:
            self._window_due = False
            return True
        if self.queue.active and not self._run_pending:
            self._run_pending = True
            self._push(math.floor(now / self.window) * self.window + self.window, RUN_QUEUE,
                       _RUN, 0)
        return False


_END, _DELETE, _EVICT, _TIMER, _RUN = range(5)
"""Heap actions: a pod's end, its deletion, its eviction from a failed node, a queue timer,
a scheduling window's boundary."""


def replay(trace: Trace, policy: Policy, seed: int = 0, *, queue: QueueMode = "retry",
           until: float | None = None, window: float | None = None, batch: int | None = None,
           bucket: float | None = None, observe: Observer | None = None,
           progress: Callable[[float], None] | None = None) -> ReplayResult:
    """Replay ``trace`` through ``policy`` seeded by ``seed`` (see the module docstring).

    queue    "retry": a pod that fits nowhere waits and is retried when the cluster changes
             (kube's queue, with backoff); "fail": it fails at once
    until    stop at this time (seconds); default: when nothing can change any more
    window   run the scheduler only at multiples of ``window`` seconds (pods wait for the
             next boundary), so a batch policy plans many pods at once; default: the
             policy's ``batch_window`` (0, every event time, except ``Optimal``)
    batch    with a window, also run as soon as ``batch`` pods are ready
    bucket   a timeline row every ``bucket`` seconds; default: one after every event time
    observe  called before every bind (``Observer``)
    progress called with the time reached after every event time the loop replays itself,
             and after each compiled run (``sim.replay_runs``) with its last instant

    Same trace, policy and seed give the same result (but ``seconds``)."""
    return Replay(trace, policy, seed, queue=queue, until=until, window=window, batch=batch,
                  bucket=bucket, observe=observe, progress=progress).run()
