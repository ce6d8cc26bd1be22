"""Outputs: all written or none (write_atomic_all), and policy colours and styles."""

from __future__ import annotations

from pathlib import Path

import pytest

from schedlab.report import write_atomic_all


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_write_atomic_all_writes_every_output(tmp_path: Path) -> None:
    write_atomic_all({tmp_path / "a.txt": lambda tmp: Path(tmp).write_text("a"),
                      str(tmp_path / "sub" / "b.txt"): lambda tmp: Path(tmp).write_text("b")})
    assert _files(tmp_path) == {"a.txt": b"a", "sub/b.txt": b"b"}


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_a_failing_writer_touches_no_target_and_leaves_no_temporary_file(
        tmp_path: Path, error: BaseException) -> None:
    (tmp_path / "a.txt").write_text("old a")
    (tmp_path / "c.txt").write_text("old c")
    before = _files(tmp_path)

    def fail(tmp: str) -> None:
        Path(tmp).write_text("half")
        raise error

    writers = {tmp_path / "a.txt": lambda tmp: Path(tmp).write_text("new a"),
               tmp_path / "b.txt": lambda tmp: Path(tmp).write_text("new b"),
               tmp_path / "c.txt": fail,
               tmp_path / "d.txt": lambda tmp: Path(tmp).write_text("new d")}
    with pytest.raises(type(error)):
        write_atomic_all(writers)
    assert _files(tmp_path) == before


def test_policy_colours_are_fixed_distinct_and_stable() -> None:
    import subprocess
    import sys

    from schedlab.report import OTHER_COLOURS, policy_colour, policy_style

    paper = ["Random", "DotProd", "GpuClustering", "GpuPacking", "BestFit", "FGD"]
    assert len({policy_colour(n) for n in paper}) == 6
    assert len({policy_colour(n) for n in ("round-robin", "greedy", "random", "optimal")}) == 4
    assert policy_style("GpuClustering") != policy_style("GpuPacking")
    assert policy_colour("MyTightFit") in OTHER_COLOURS
    # the same in another process, whatever PYTHONHASHSEED is
    code = ("from schedlab.report import policy_colour as c, policy_style as s;"
            "print(c('MyTightFit'), s('MyTightFit'))")
    printed = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={**__import__("os").environ, "PYTHONHASHSEED": seed},
                              check=True).stdout for seed in ("1", "2")}
    assert printed == {f"{policy_colour('MyTightFit')} {policy_style('MyTightFit')}\n"}
    assert len({policy_colour(f"policy-{i}") for i in range(40)}) > 4


def test_bench_figure_whiskers_of_equal_values() -> None:
    """Three seeds allocating 0.1 of the cpu each: their mean (0.1 + 0.1 + 0.1) / 3 rounds
    above 0.1, so max - mean is a tiny negative number; the figure is still drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from schedlab.bench import bench_figure

    results = pd.DataFrame({"config": ["default"] * 3, "policy": ["greedy"] * 3,
                            "seed": [0, 1, 2], "placed": [5, 5, 5],
                            "allocation_cpu": [0.1, 0.1, 0.1]})
    assert results["allocation_cpu"].mean() > 0.1  # (the rounding this test is about)
    figure = bench_figure(results, "three equal seeds")
    assert len(figure.axes) == 2
