"""Progress on stderr for the command's longer work (rich): a bar per piece of work with its
count, elapsed time and a status line (such as Optimal's best solution and bound), shown
only on a terminal and never with ``--quiet``, so scripts and pipes get clean output."""

from __future__ import annotations

from types import TracebackType
from typing import Any


class Task:
    """One piece of work on the display: ``advance`` it, set its ``status`` text."""

    def __init__(self, progress: Any, task_id: Any) -> None:
        self._progress, self._id = progress, task_id

    def advance(self) -> None:
        """One more step done (the status is cleared)."""
        if self._progress is not None:
            self._progress.update(self._id, advance=1, status="")

    def set(self, completed: float, status: str = "") -> None:
        """Show ``completed`` steps done, with a status text."""
        if self._progress is not None:
            self._progress.update(self._id, completed=completed,
                                  status=" ".join(status.split()))

    def status(self, text: str) -> None:
        """Replace the status shown after the bar (one line; shortened to fit)."""
        if self._progress is not None:
            self._progress.update(self._id, status=" ".join(text.split()))


class Progress:
    """A context manager showing tasks on stderr while it is open (nothing when ``quiet``
    or stderr is not a terminal)."""

    def __init__(self, quiet: bool = False) -> None:
        self._progress: Any = None
        if quiet:
            return
        from rich.console import Console

        console = Console(stderr=True)
        if not console.is_terminal:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import (
            Progress as RichProgress,
        )

        self._progress = RichProgress(
            SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[status]}", markup=False),
            console=console, transient=True)

    def __enter__(self) -> Progress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    def task(self, description: str, total: int | None = None) -> Task:
        """A new task of ``total`` steps (None: unknown)."""
        if self._progress is None:
            return Task(None, None)
        return Task(self._progress, self._progress.add_task(description, total=total,
                                                           status=""))
