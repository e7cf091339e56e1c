"""Geometry of the SLA attainment chart (inline SVG, no JavaScript): for each month a
group of four bars, one per severity, each as tall as the share of measured tickets
whose target was met. Pure: takes the tallies, returns numbers formatted for SVG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Protocol

SEVERITIES = (1, 2, 3, 4)
LEFT, TOP, HEIGHT, GROUP, BAR, GAP = 44, 12, 160, 60, 11, 2
RIGHT = 8


class Measured(Protocol):
    met: int
    breached: int

    @property
    def measured(self) -> int: ...

    @property
    def share(self) -> Fraction | None: ...


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    height: str
    severity: int
    label: str  # read by screen readers and shown as a tooltip


@dataclass(frozen=True)
class Cell:
    """A (month, severity) figure for the table fallback."""

    text: str
    met: int
    measured: int


@dataclass(frozen=True)
class MonthColumn:
    month: date
    label_x: str
    cells: list[Cell]


@dataclass(frozen=True)
class AttainmentChart:
    title: str
    bars: list[Bar]
    gaps: list[Bar]  # months and severities with no measured ticket: a baseline marker
    columns: list[MonthColumn]
    ticks: list[tuple[str, str]]  # (y, label)
    width: int
    height: int
    axis_y: int
    summary: str


def percent_text(share: Fraction | None) -> str:
    if share is None:
        return "–"
    return f"{round(share * 100)} %"


def attainment_chart(
    title: str, months: list[date], tallies: dict[tuple[date, int], Measured]
) -> AttainmentChart:
    axis_y = TOP + HEIGHT
    bars, gaps, columns = [], [], []
    group_width = len(SEVERITIES) * BAR + (len(SEVERITIES) - 1) * GAP
    met_total = measured_total = 0
    for i, month in enumerate(months):
        left = LEFT + i * GROUP + (GROUP - group_width) / 2
        cells = []
        for j, severity in enumerate(SEVERITIES):
            x = left + j * (BAR + GAP)
            tally = tallies.get((month, severity))
            share = tally.share if tally is not None else None
            name = f"Severity {severity}, {month:%b %Y}"
            if share is None:
                gaps.append(
                    Bar(
                        f"{x:.1f}",
                        f"{axis_y - 2:.1f}",
                        "2",
                        severity,
                        f"{name}: no tickets measured",
                    )
                )
                cells.append(Cell("–", 0, 0))
                continue
            height = max(float(share) * HEIGHT, 2.0)
            label = f"{name}: {tally.met} of {tally.measured} met ({percent_text(share)})"
            bars.append(Bar(f"{x:.1f}", f"{axis_y - height:.1f}", f"{height:.1f}", severity, label))
            cells.append(Cell(percent_text(share), tally.met, tally.measured))
            met_total += tally.met
            measured_total += tally.measured
        columns.append(MonthColumn(month, f"{LEFT + i * GROUP + GROUP / 2:.1f}", cells))
    ticks = [(f"{axis_y - HEIGHT * part:.1f}", f"{int(part * 100)} %") for part in (0, 0.5, 1)]
    if measured_total:
        overall = percent_text(Fraction(met_total, measured_total))
        summary = (
            f"{met_total} of {measured_total} measured tickets met their target ({overall}) "
            f"from {months[0]:%B %Y} to {months[-1]:%B %Y}."
        )
    else:
        summary = f"No ticket was measured from {months[0]:%B %Y} to {months[-1]:%B %Y}."
    return AttainmentChart(
        title=title,
        bars=bars,
        gaps=gaps,
        columns=columns,
        ticks=ticks,
        width=LEFT + len(months) * GROUP + RIGHT,
        height=axis_y + 28,
        axis_y=axis_y,
        summary=summary,
    )
