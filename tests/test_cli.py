"""The schedlab command: explain's JSON shape, place's outputs, bench, generate, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from schedlab.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "traces" / "examples"
NODES, PODS = str(EXAMPLES / "nodes.yaml"), str(EXAMPLES / "pods.yaml")
NODE_KEYS = {"name", "feasible", "reasons", "scores", "total"}
SCORE_KEYS = {"raw", "normalized", "weighted"}
DEFAULT_SCORE_PLUGINS = {"TaintToleration", "NodeAffinity", "NodeResourcesFit",
                         "PodTopologySpread", "InterPodAffinity",
                         "NodeResourcesBalancedAllocation"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def explain(capsys: pytest.CaptureFixture[str], pod: str, *extra: str) -> dict:
    code, out, err = run(capsys, "explain", "--nodes", NODES, "--pods", PODS, "--pod", pod, *extra)
    assert code == 0, err
    return json.loads(out)


def assert_shape(report: dict, plugins: set[str]) -> None:
    assert set(report) == {"pod", "selected", "nodes"}
    assert [n["name"] for n in report["nodes"]] == ["small-a", "big-b", "gpu-c", "cordoned-d"]
    for node in report["nodes"]:
        assert set(node) == NODE_KEYS
        assert node["feasible"] == (not node["reasons"])
        for reason in node["reasons"]:
            assert set(reason) == {"plugin", "reason"}
        if node["feasible"]:
            assert set(node["scores"]) == plugins
            for score in node["scores"].values():
                assert set(score) == SCORE_KEYS
                assert all(isinstance(v, int) for v in score.values())
            assert node["total"] == sum(s["weighted"] for s in node["scores"].values())
        else:
            assert node["scores"] == {} and node["total"] == 0


@pytest.mark.parametrize(
    ("pod", "selected", "rejections"),
    [
        # db (3 cpu) is bound on small-a (4 cpu): 2 more cpu do not fit there.
        ("web", "big-b", {"small-a": ("NodeResourcesFit", "Insufficient cpu")}),
        ("picky", "big-b", {"small-a": ("NodeAffinity",
                                        "node(s) didn't match Pod's node affinity/selector")}),
        ("ml/trainer", "gpu-c", {"big-b": ("NodeResourcesFit", "Insufficient nvidia.com/gpu")}),
        ("rescue", None, {"gpu-c": ("TaintToleration",
                                    "node(s) had untolerated taint {nvidia.com/gpu: present}")}),
        ("pinned", "big-b", {"small-a": ("NodeName",
                                         "node(s) didn't match the requested node name")}),
        ("huge", None, {"cordoned-d": ("NodeUnschedulable", "node(s) were unschedulable")}),
    ],
)
def test_explain_names_each_plugins_reasons(capsys, pod, selected, rejections) -> None:
    report = explain(capsys, pod)
    assert_shape(report, DEFAULT_SCORE_PLUGINS)
    if selected is not None:
        assert report["selected"] == selected
    by_name = {n["name"]: n for n in report["nodes"]}
    for node, (plugin, reason) in rejections.items():
        assert {"plugin": plugin, "reason": reason} in by_name[node]["reasons"]


def test_explain_scores_a_single_feasible_node_and_prefers_by_affinity(capsys) -> None:
    report = explain(capsys, "picky")
    feasible = [n for n in report["nodes"] if n["feasible"]]
    assert [n["name"] for n in feasible] == ["big-b"]
    # NodeAffinity: raw 40 (the zone-b preference), normalised 100*40/40 = 100, weight 2.
    assert feasible[0]["scores"]["NodeAffinity"] == {"raw": 40, "normalized": 100,
                                                     "weighted": 200}
    # TaintToleration: one untolerated PreferNoSchedule taint, reverse-normalised: 100-100 = 0.
    assert feasible[0]["scores"]["TaintToleration"] == {"raw": 1, "normalized": 0,
                                                        "weighted": 0}


def test_explain_unschedulable_pod_selects_nothing(capsys) -> None:
    report = explain(capsys, "huge")
    assert report["selected"] is None
    assert not any(n["feasible"] for n in report["nodes"])


def test_explain_with_config_and_table(capsys) -> None:
    config = str(EXAMPLES / "scheduler-config.yaml")
    report = explain(capsys, "rescue", "--config", config)
    assert_shape(report, DEFAULT_SCORE_PLUGINS - {"NodeResourcesBalancedAllocation"})
    code, out, _ = run(capsys, "explain", "--nodes", NODES, "--pods", PODS, "--pod", "web",
                       "--format", "table")
    assert code == 0 and "big-b *" in out and "Insufficient cpu" in out


def test_explain_pod_from_its_own_file(capsys, tmp_path) -> None:
    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: extra}\nspec:\n"
                   "  containers: [{name: a, resources: {requests: {cpu: '1'}}}]\n")
    assert explain(capsys, str(pod))["pod"] == "default/extra"


@pytest.mark.parametrize("suffix", [".json", ".csv", ".parquet"])
def test_place_writes_bindings(capsys, tmp_path, suffix) -> None:
    out = tmp_path / f"bindings{suffix}"
    code, text, err = run(capsys, "place", "--nodes", NODES, "--pods", PODS, "--policy",
                          "greedy", "--seed", "3", "--out", str(out))
    assert code == 0, err
    # db and pinned name their node (spec.nodeName): they are already bound, not placed.
    pending = ["default/web", "default/picky", "ml/trainer", "default/rescue", "default/huge"]
    if suffix == ".json":
        payload = json.loads(out.read_text())
        assert set(payload) == {"bindings", "summary"}
        assert [b["pod"] for b in payload["bindings"]] == pending
        assert all(set(b) == {"pod", "node", "reason", "gpus"} for b in payload["bindings"])
        huge = payload["bindings"][-1]
        assert huge["node"] is None and huge["reason"].startswith("0/4 nodes are available: ")
        assert payload["summary"]["unschedulable"] == 1
    else:
        frame = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
        assert list(frame["pod"]) == pending


def test_place_same_seed_same_bytes(capsys, tmp_path) -> None:
    outputs = []
    for i in range(2):
        out = tmp_path / f"b{i}.json"
        assert run(capsys, "place", "--nodes", NODES, "--pods", PODS, "--policy", "random",
                   "--seed", "9", "--out", str(out))[0] == 0
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_bench_on_the_bundled_default(capsys, tmp_path) -> None:
    code, out, err = run(capsys, "bench", "--seeds", "1", "--out", str(tmp_path),
                         "--time-limit", "2")
    assert code == 0, err
    for policy in ("greedy", "round-robin", "optimal"):
        assert policy in out
    assert "placed gap" in out and "nodes gap" in out and "optimal: " in out
    results = pd.read_parquet(tmp_path / "results.parquet")
    assert set(results["policy"]) == {"greedy", "round-robin", "optimal"}
    assert (results["placed"] + results["unschedulable"] == results["pods"]).all()
    assert (results["placed_gap"] >= 0).all() and (results["nodes_gap"].dropna() >= 0).all()
    optimal = results[results["policy"] == "optimal"].iloc[0]
    greedy = results[results["policy"] == "greedy"].iloc[0]
    assert optimal["placed"] >= greedy["placed"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {"parameters", "machine", "versions", "results"} <= set(summary)


def test_bundled_default_is_what_generate_writes(capsys, tmp_path) -> None:
    assert run(capsys, "generate", "--out", str(tmp_path))[0] == 0
    for name in ("nodes.yaml", "pods.yaml"):
        assert (tmp_path / name).read_bytes() == (ROOT / "traces" / "default" / name).read_bytes()


NODE = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {allocatable: {cpu: '4'}}\n"


def pod(requests: str = "{cpu: '1'}", extra: str = "") -> str:
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p1}}\nspec:\n{extra}"
            f"  containers: [{{name: a, resources: {{requests: {requests}}}}}]\n")


@pytest.mark.parametrize(
    ("nodes", "pods", "config", "needle"),
    [
        (NODE, "kind: Pod\n  bad: [\n", None, "pods.yaml"),
        (NODE, "apiVersion: v1\nkind: Gadget\nmetadata: {name: g}\n", None, "Gadget"),
        (NODE, pod("{cpu: 12Q}"), None, "12Q"),
        (NODE, pod("{cpu: '-1'}"), None, "-1"),
        (NODE, pod(extra="  nodeName: nowhere\n"), None, "nowhere"),
        (NODE, pod(), "apiVersion: kubescheduler.config.k8s.io/v1\n"
         "kind: KubeSchedulerConfiguration\nprofiles:\n- plugins:\n    score:\n"
         "      enabled: [{name: NoSuchPlugin}]\n", "NoSuchPlugin"),
    ],
    ids=["malformed-yaml", "unknown-kind", "quantity-12Q", "quantity-negative",
         "unknown-nodeName", "unknown-plugin"],
)
def test_bad_input_one_clear_line(tmp_path, nodes, pods, config, needle) -> None:
    (tmp_path / "nodes.yaml").write_text(nodes)
    (tmp_path / "pods.yaml").write_text(pods)
    out = tmp_path / "out.json"
    argv = [sys.executable, "-m", "schedlab", "place", "--nodes", str(tmp_path / "nodes.yaml"),
            "--pods", str(tmp_path / "pods.yaml"), "--out", str(out)]
    if config is not None:
        (tmp_path / "sched.yaml").write_text(config)
        argv += ["--config", str(tmp_path / "sched.yaml")]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("schedlab: error: ") and needle in lines[0]
    assert "Traceback" not in done.stderr
    assert not out.exists() and not list(tmp_path.glob(".out.json*"))


def test_bad_output_extension(capsys, tmp_path) -> None:
    code, _, err = run(capsys, "place", "--nodes", NODES, "--pods", PODS, "--out",
                       str(tmp_path / "b.txt"))
    assert code == 1 and ".txt" in err and len(err.strip().splitlines()) == 1


SPREAD = EXAMPLES / "spread"


def test_explain_in_order_shows_spreading_and_affinity(capsys) -> None:
    """The README's example: after the earlier pods are placed, the fifth web replica may
    not go to the zone that already has two, nor to the node without a zone; the cache
    needs a zone with a web pod and avoids nodes running a db replica."""
    def report(pod: str) -> dict:
        code, out, err = run(capsys, "explain", "--nodes", str(SPREAD / "nodes.yaml"),
                             "--pods", str(SPREAD / "pods.yaml"), "--pod", pod, "--in-order")
        assert code == 0, err
        return json.loads(out)

    web = report("shop/web-4")
    reasons = {n["name"]: [r["reason"] for r in n["reasons"]] for n in web["nodes"]}
    assert reasons["edge"] == [
        "node(s) didn't match pod topology spread constraints (missing required label)"]
    crowded = [name for name, r in reasons.items()
               if r == ["node(s) didn't match pod topology spread constraints"]]
    assert len(crowded) == 2 and crowded[0][0] == crowded[1][0]  # both nodes of one zone
    cache = report("shop/cache")
    by_name = {n["name"]: n for n in cache["nodes"]}
    assert [r["reason"] for r in by_name["edge"]["reasons"]] == [
        "node(s) didn't match pod affinity rules"]
    raw = {n["name"]: n["scores"]["InterPodAffinity"]["raw"] for n in cache["nodes"]
           if n["feasible"]}
    assert set(raw.values()) == {0, -50} and raw[cache["selected"]] == 0  # -50: runs a db
