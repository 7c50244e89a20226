"""The card's statistics as small PNG plots, the same bytes on every build.

matplotlib draws with the Agg backend at a fixed size and dpi, in matplotlib's default style
(no matplotlibrc can change a pixel) and with the DejaVu Sans font matplotlib ships (no system
font can either), and writes PNGs without the Software key or any date. The bytes still depend
on the matplotlib and Pillow versions, so the card names them under `built_with`.

The labels are Latin: matplotlib ships no CJK font, so the plot numbers the sections and the
table under it in the card names them.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.connection
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from builder import workers
from builder.layout import PLOTS_DIR
from builder.lengths import Lengths

MONTHS_FILE = f"{PLOTS_DIR}/articles-per-month.png"
LENGTHS_FILE = f"{PLOTS_DIR}/body-length.png"
SECTIONS_FILE = f"{PLOTS_DIR}/articles-per-section.png"
SIZE = (6.4, 3.2)  # inches
DPI = 100
COLOUR = "#3b6ea5"
MAX_SECTIONS = 20
MAX_TICKS = 12
MIN_SLOTS = 6  # room for at least this many bars, so that one bar is not a wall


def write_plots(
    folder: Path,
    per_month: Sequence[tuple[str, int]],
    lengths: Lengths,
    per_section: Sequence[tuple[str, int]],
    jobs: int = 1,
) -> list[str]:
    """Draw the three plots into `folder` and return their paths relative to it; in `jobs`
    processes (each plot is drawn on its own, so the bytes do not depend on it)."""
    ahead = take_ahead()
    try:
        (folder / PLOTS_DIR).mkdir(parents=True, exist_ok=True)
        todo = [
            (folder / MONTHS_FILE, per_month),
            (folder / LENGTHS_FILE, lengths),
            (folder / SECTIONS_FILE, per_section),
        ]
        jobs = min(jobs, len(todo))
        if ahead is None or not ahead.draw(todo, jobs):
            draw_all(todo, jobs)
    finally:
        if ahead is not None:
            ahead.close()
    return [MONTHS_FILE, LENGTHS_FILE, SECTIONS_FILE]


def draw_all(todo: list[tuple[Path, Any]], jobs: int) -> None:
    for _ in workers.imap(draw_named, todo, jobs):
        pass


class Ahead:
    """A process that imports matplotlib before the plots are asked for, then draws them
    (`start_ahead`): `newsset build` starts it before its own imports, so the half second of
    matplotlib's runs on the core those leave idle, not beside the shard writers. It draws
    once, in `jobs` processes as `write_plots` would, and ends when its pipe closes (`close`,
    which `write_plots` calls whatever happens)."""

    def __init__(self) -> None:
        context = workers.start_context()
        self.pipe, theirs = context.Pipe()
        self.process = context.Process(target=serve, args=(theirs, self.pipe), name="newsset-plots")
        self.process.start()
        theirs.close()

    def draw(self, todo: list[tuple[Path, Any]], jobs: int) -> bool:
        """Have the process draw the plots; False where it is gone (the caller draws them)."""
        try:
            self.pipe.send((todo, jobs))
            failure = self.pipe.recv()
        except (EOFError, OSError):
            return False
        if failure is not None:
            raise failure
        return True

    def close(self) -> None:
        """Tell the process to stop, where it waits still (the end of the pipe alone would not
        tell it while a process forked from this one holds a copy), and wait for it."""
        with suppress(OSError):
            self.pipe.send(None)
        self.pipe.close()
        self.process.join()


def serve(pipe: multiprocessing.connection.Connection, theirs: multiprocessing.connection.Connection) -> None:
    """The plotting process (Ahead): import, wait for the plots, draw them, answer None or the
    exception that stopped them. It ends without drawing when told to stop (None) or when its
    pipe closes first."""
    theirs.close()  # the parent's end, copied by the fork
    preload()
    try:
        job = pipe.recv()
    except EOFError:
        return
    if job is None:
        return
    try:
        draw_all(*job)
    except Exception as err:  # raised in the parent, as drawing there would have
        try:
            pipe.send(err)
        except Exception:  # an exception that does not pickle: its message
            pipe.send(RuntimeError(f"the plots could not be drawn: {err}"))
        return
    pipe.send(None)


_ahead: Ahead | None = None


def start_ahead() -> None:
    """Start the plotting process (Ahead) for the next `write_plots`, where processes fork (on
    other platforms the plots are drawn as without it). One at a time; stopped at exit."""
    global _ahead
    stop_ahead()
    if "fork" in multiprocessing.get_all_start_methods():
        _ahead = Ahead()


def stop_ahead() -> None:
    """End the plotting process, if one was started and not used."""
    ahead = take_ahead()
    if ahead is not None:
        ahead.close()


def take_ahead() -> Ahead | None:
    global _ahead
    ahead, _ahead = _ahead, None
    return ahead


def drawing_ahead() -> bool:
    """Is a plotting process waiting (then this one need not import matplotlib)?"""
    return _ahead is not None


atexit.register(stop_ahead)


def draw_named(job: tuple[Path, Any]) -> None:
    """Draw the plot a path names (MONTHS_FILE, LENGTHS_FILE or SECTIONS_FILE) from its data."""
    import matplotlib

    path, data = job
    plot = PLOTTERS[path.name]
    matplotlib.use("Agg", force=True)
    with matplotlib.rc_context(matplotlib.rcParamsDefault):
        draw(path, lambda ax, font: plot(ax, font, data))


def preload() -> None:
    """Import matplotlib and pyplot on the Agg backend, as `write_plots` will use them: half a
    second of imports, which the build does while its shard writers work."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot


def bundled_font() -> Any:
    """DejaVu Sans from matplotlib's own data folder, never a system copy."""
    import matplotlib
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf", size=9)


def draw(path: Path, plot: Any) -> None:
    """One figure: plot into its axes, set every text in the bundled font, save a bare PNG."""
    import matplotlib.pyplot as plt

    font = bundled_font()
    fig, ax = plt.subplots(figsize=SIZE, dpi=DPI)
    try:
        plot(ax, font)
        for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
            label.set_fontproperties(font)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    finally:
        plt.close(fig)


def months_plot(ax: Any, font: Any, per_month: Sequence[tuple[str, int]]) -> None:
    labels = [month for month, _ in per_month]
    ax.bar(range(len(labels)), [n for _, n in per_month], color=COLOUR)
    step = max(1, -(-len(labels) // MAX_TICKS))
    ax.set_xticks(range(0, len(labels), step), labels[::step])
    ax.set_xlim(-0.75, max(len(labels), MIN_SLOTS) - 0.25)
    ax.set_title("Articles per month", fontproperties=font)
    ax.set_ylabel("articles", fontproperties=font)
    integer_axis(ax.yaxis)


def lengths_plot(ax: Any, font: Any, lengths: Lengths) -> None:
    """The histogram of every article's length, drawn from the distinct lengths weighted by
    their counts: the same bars (numpy's "auto" bins, `Lengths.bin_edges`)."""
    ax.hist(lengths.values, bins=lengths.bin_edges(), weights=lengths.counts, color=COLOUR, edgecolor="white")
    ax.set_title("Body length", fontproperties=font)
    ax.set_xlabel("characters", fontproperties=font)
    ax.set_ylabel("articles", fontproperties=font)
    integer_axis(ax.yaxis)


def sections_plot(ax: Any, font: Any, per_section: Sequence[tuple[str, int]]) -> None:
    """Horizontal bars, largest section on top, numbered as in the card's table."""
    shown = list(per_section[:MAX_SECTIONS])
    ranks = range(1, len(shown) + 1)
    ax.barh(list(ranks), [n for _, n in shown], color=COLOUR)
    ax.set_yticks(list(ranks), [str(r) for r in ranks])
    ax.set_ylim(max(len(shown), MIN_SLOTS) + 0.75, 0.25)  # largest on top
    ax.set_title("Articles per section (numbered as in the table)", fontproperties=font)
    ax.set_xlabel("articles", fontproperties=font)
    ax.set_ylabel("section", fontproperties=font)
    integer_axis(ax.xaxis)


def integer_axis(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


# Each plot by its file's name.
PLOTTERS = {
    Path(MONTHS_FILE).name: months_plot,
    Path(LENGTHS_FILE).name: lengths_plot,
    Path(SECTIONS_FILE).name: sections_plot,
}
