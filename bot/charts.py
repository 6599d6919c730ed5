"""PNG charts of a campaign's results for coordinators, drawn on matplotlib's Agg canvas (no pyplot).

:func:`totals_chart` shows one level's totals coloured by band; :func:`bands_chart` shows how
the agencies of each level fall into bands. Agencies are placed by their ranking score
(``AgencyReport.effective``). Bands are those of the rubric's total band scheme, coloured from
red (lowest) through amber to green (highest); an agency without a band is grey. Every text
comes from ``{lang}/chart_labels.j2`` and numbers carry a decimal comma (150,77). Images are
1 000 px wide and at most about 2 000 px high, so Telegram takes them as photos.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from collections.abc import Callable

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot.texts import environment
from rubrics.compiled import CompiledRubric
from rubrics.formatting import vn_number, vn_score
from rubrics.model import Band
from storage.reports import AgencyReport, LevelReport

MAX_BARS = 60  # above this, a level's totals are drawn as a histogram
BINS = 20
WIDTH, DPI = 10, 100  # inches, dots per inch
NAME_LENGTH = 45
NO_BAND = "#90a4ae"
BAND_RAMP = LinearSegmentedColormap.from_list("bands", ["#c62828", "#f9a825", "#2e7d32"])
THRESHOLD = "#616161"

Text = Callable[..., str]


def totals_chart(report: LevelReport, *, lang: str) -> bytes:
    """One level's totals as a PNG; see :func:`totals_figure`."""
    return png_of(totals_figure(report, lang=lang))


def bands_chart(reports: dict[str, LevelReport], *, lang: str) -> bytes:
    """The band distribution of each level as a PNG; see :func:`bands_figure`."""
    return png_of(bands_figure(reports, lang=lang))


def totals_figure(report: LevelReport, *, lang: str) -> Figure:
    """A bar per agency, ranked agencies by rank, then those not submitted (grey, no band), with dashed
    lines at the band thresholds.

    A level of more than :data:`MAX_BARS` agencies would give unreadable bars, so it is drawn as
    a histogram instead: the totals in 20 equal bins from 0 to the rubric's max, each bin stacked
    by band, with the highest, median and lowest total noted under the title. A level without
    agencies gives an empty chart with a "no data" note.
    """
    text = _text(lang)
    entries = report.ranked()
    rubric = report.rubric
    if not entries:
        return _no_data(text("totals_title", rubric.rubric, 0), text)
    if len(entries) > MAX_BARS:
        figure = _figure(6.5)
        figure.suptitle(text("distribution_title", rubric.rubric, len(entries)))
        axes = figure.add_subplot()
        _histogram(axes, rubric, entries, text)
    else:
        figure = _figure(max(3.5, 1.8 + 0.3 * len(entries)))
        figure.suptitle(text("totals_title", rubric.rubric, len(entries)))
        axes = figure.add_subplot()
        _bars(axes, rubric, entries)
    _thresholds(axes, rubric)
    axes.set_xlabel(text("points_axis", rubric.max))
    _legend(figure, _band_legend(rubric, entries, text))
    return figure


def bands_figure(reports: dict[str, LevelReport], *, lang: str) -> Figure:
    """A 100 % stacked bar per level (levels with agencies, in campaign order): the share of its
    agencies in each band, highest band first, each segment labelled with its count. Shares
    rather than counts keep a level of 700 readable next to one of 10 000."""
    text = _text(lang)
    levels = [report for report in reports.values() if report.agencies]
    if not levels:
        return _no_data(text("bands_title"), text)
    figure = _figure(max(3.0, 1.8 + 0.9 * len(levels)))
    figure.suptitle(text("bands_title"))
    axes = figure.add_subplot()
    legend: dict[str, str] = {}
    for row, report in enumerate(levels):
        _stack(axes, row, _segments(report, text))
        legend.update(_band_legend(report.rubric, report.agencies, text))
    axes.set_yticks(range(len(levels)), [text("level_row", r.rubric.rubric, len(r.agencies)) for r in levels])
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.xaxis.set_major_formatter(_vn_ticks())
    axes.set_xlabel(text("share_axis"))
    _legend(figure, legend)
    return figure


def png_of(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def total_bands(rubric: CompiledRubric) -> list[Band]:
    """The bands that set an agency's band (the last total scheme, as the scorer applies them), lowest first."""
    schemes = [scheme for scheme in rubric.rubric.bands if scheme.applies_to == "total"]
    return sorted(schemes[-1].bands, key=lambda band: band.from_) if schemes else []


def band_colours(rubric: CompiledRubric) -> dict[str, str]:
    """Each total band's label → its colour, red for the lowest through amber to green for the highest."""
    bands = total_bands(rubric)
    steps = np.linspace(0, 1, len(bands)) if len(bands) > 1 else [1.0]
    return {band.label: to_hex(BAND_RAMP(step)) for band, step in zip(bands, steps)}


def _text(lang: str) -> Text:
    """Renders one macro of ``{lang}/chart_labels.j2``."""
    module = environment().get_template(f"{lang}/chart_labels.j2").module
    return lambda name, *args: str(getattr(module, name)(*args)).strip()


def _figure(height: float) -> Figure:
    return Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")


def _no_data(title: str, text: Text) -> Figure:
    figure = _figure(3.0)
    figure.suptitle(title)
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.text(0.5, 0.5, text("no_data"), ha="center", va="center", transform=axes.transAxes, fontsize=13)
    return figure


def _vn_ticks() -> FuncFormatter:
    return FuncFormatter(lambda value, _position: vn_number(round(value, 2)))


def _short(name: str) -> str:
    return name if len(name) <= NAME_LENGTH else name[: NAME_LENGTH - 1] + "…"


def _colour_of(entry: AgencyReport, colours: dict[str, str]) -> str:
    return colours.get(entry.effective.band, NO_BAND)


def _bars(axes: Axes, rubric: CompiledRubric, entries: list[AgencyReport]) -> None:
    colours = band_colours(rubric)
    positions = range(len(entries))
    totals = [float(e.effective.total) for e in entries]
    bars = axes.barh(positions, totals, height=0.7, color=[_colour_of(e, colours) for e in entries])
    axes.bar_label(bars, [vn_score(e.effective.total) for e in entries], padding=3, fontsize=9)
    axes.set_yticks(positions, [_short(e.agency.name) for e in entries])
    axes.invert_yaxis()
    axes.margins(y=0.01)
    maximum = float(rubric.max)
    axes.set_xlim(0, maximum * 1.12)
    axes.set_xticks([t for t in MaxNLocator(nbins=10).tick_values(0, maximum) if 0 <= t <= maximum])
    axes.xaxis.set_major_formatter(_vn_ticks())


def _histogram(axes: Axes, rubric: CompiledRubric, entries: list[AgencyReport], text: Text) -> None:
    colours = band_colours(rubric)
    maximum = float(rubric.max)
    edges = np.linspace(0, maximum, BINS + 1)
    bottom = np.zeros(BINS)
    for colour in [*colours.values(), NO_BAND]:
        totals = [min(float(e.effective.total), maximum) for e in entries if _colour_of(e, colours) == colour]
        counts, _ = np.histogram(totals, bins=edges)
        axes.bar(edges[:-1], counts, width=maximum / BINS, bottom=bottom, align="edge", color=colour)
        bottom += counts
    totals = [e.effective.total for e in entries]
    axes.set_title(text("distribution_note", totals[0], statistics.median(totals), totals[-1]), fontsize=10)
    axes.set_xlim(0, maximum)
    axes.xaxis.set_major_formatter(_vn_ticks())
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(_vn_ticks())
    axes.set_ylabel(text("agencies_axis"))


def _thresholds(axes: Axes, rubric: CompiledRubric) -> None:
    """A dashed line where each band above the lowest begins, behind the bars."""
    for band in total_bands(rubric)[1:]:
        axes.axvline(float(band.from_ * rubric.max / 100), color=THRESHOLD, linestyle="--", linewidth=0.8, zorder=0)


def _band_legend(rubric: CompiledRubric, entries: list[AgencyReport], text: Text) -> dict[str, str]:
    """Legend label → colour: the rubric's bands, highest first, and "no band" if an agency has none."""
    colours = band_colours(rubric)
    legend = {text("band", band): colours[band.label] for band in reversed(total_bands(rubric))}
    if any(_colour_of(e, colours) == NO_BAND for e in entries):
        legend[text("no_band")] = NO_BAND
    return legend


def _segments(report: LevelReport, text: Text) -> list[tuple[str, str, int]]:
    """(legend label, colour, count) of each band holding agencies of the level, highest first, then "no band"."""
    colours = band_colours(report.rubric)
    counts = Counter(_colour_of(e, colours) for e in report.agencies)
    segments = [
        (text("band", band), colours[band.label], counts[colours[band.label]])
        for band in reversed(total_bands(report.rubric))
    ]
    segments.append((text("no_band"), NO_BAND, counts[NO_BAND]))
    return [segment for segment in segments if segment[2]]


def _stack(axes: Axes, row: int, segments: list[tuple[str, str, int]]) -> None:
    total, left = sum(count for _, _, count in segments), 0.0
    for _, colour, count in segments:
        share = 100 * count / total
        axes.barh(row, share, left=left, height=0.6, color=colour)
        if share >= 5:
            axes.text(left + share / 2, row, vn_number(count), ha="center", va="center", color="white", weight="bold")
        left += share


def _legend(figure: Figure, entries: dict[str, str]) -> None:
    if entries:
        handles = [Patch(color=colour, label=label) for label, colour in entries.items()]
        figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), frameon=False)
