"""What a slow command shows while it works: a progress bar while papers are embedded, a
spinner while the model loads. Both are drawn on stderr, and only on a terminal: in --json
mode or with output going to a file or a pipe, `terminal()` gives None and nothing is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

# Called with (papers embedded so far, papers to embed).
OnProgress = Callable[[int, int], None]


def terminal(json_output: bool = False) -> Console | None:
    """A console on stderr if stderr is a terminal and the output is not JSON, else None."""
    console = Console(stderr=True)
    return console if console.is_terminal and not json_output else None


class RateColumn(ProgressColumn):
    """`45.2 papers/s`, once there is a rate to show."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} papers/s" if speed else "", style="progress.data.speed")


@contextmanager
def embedding_progress(console: Console | None) -> Iterator[OnProgress | None]:
    """Yields the OnProgress that draws `Embedding papers ━━━ 120/322 45.2 papers/s 0:00:04`
    (papers of total, rate, time left), or None when there is no terminal."""
    if console is None:
        yield None
        return
    with Progress(
        TextColumn("Embedding papers"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        TextColumn("left"),
        console=console,
    ) as bar:
        task = None

        def on_progress(done: int, total: int) -> None:
            nonlocal task
            if task is None:
                task = bar.add_task("embed", total=total)
            bar.update(task, completed=done, total=total)

        yield on_progress


@contextmanager
def spinner(console: Console | None, text: str) -> Iterator[None]:
    """A spinner with `text` while the block runs, on a terminal."""
    if console is None:
        yield
        return
    with console.status(text):
        yield


@contextmanager
def copy_progress(console: Console | None) -> Iterator[Callable[[str, int, int], None] | None]:
    """Yields the OnProgress of bot.storage.copy that draws a bar per table while it is
    copied, `papers ━━━ 2000/2345 0:00:01` (rows of total, time left), or None when there
    is no terminal."""
    if console is None:
        yield None
        return
    with Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        # The command prints each table's rows when done; the bars need not stay.
        transient=True,
    ) as bars:
        tasks = {}

        def on_progress(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bars.add_task(table, total=total)
            bars.update(tasks[table], completed=done, total=total)

        yield on_progress
