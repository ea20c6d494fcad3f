"""Small charts for the PDF report, drawn with reportlab's own shapes.

matplotlib would add tens of megabytes to the Lambda package for two bar charts;
these draw straight into the PDF as vectors and stay sharp at any zoom.
"""

from collections.abc import Sequence
from decimal import Decimal

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors

INK = colors.HexColor("#1F2933")
MUTED = colors.HexColor("#616E7C")
GRID = colors.HexColor("#D9E2EC")
SPENDING = colors.HexColor("#C2410C")
INCOME = colors.HexColor("#15803D")
PALETTE = [
    colors.HexColor(c)
    for c in ("#1D4ED8", "#C2410C", "#15803D", "#7C3AED", "#B45309", "#0E7490", "#BE185D", "#4D7C0F", "#475569")
]


def money_text(value: Decimal) -> str:
    return f"{value:,.2f}"


def _short(value: Decimal) -> str:
    """Axis labels: 12.5k rather than 12,500.00."""
    magnitude = abs(value)
    if magnitude >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if magnitude >= 1_000:
        return f"{value / 1_000:.1f}k"
    return f"{value:.0f}"


def _nice_step(maximum: Decimal, ticks: int = 4) -> Decimal:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) covering `maximum`."""
    raw = maximum / ticks if maximum > 0 else Decimal(1)
    power = Decimal(10) ** (len(str(int(raw))) - 1) if raw >= 1 else Decimal(1)
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        if raw <= power * factor:
            return power * factor
    return power * 10


def _fit(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def horizontal_bars(
    items: Sequence[tuple[str, Decimal]], *, width: float, bar_height: float = 14, font: str = "Helvetica"
) -> Drawing:
    """One labelled bar per item, largest first, the amount at the end of each bar."""
    label_width, value_width, gap = width * 0.32, 70.0, 4.0
    plot_width = width - label_width - value_width
    height = len(items) * (bar_height + gap) + gap
    drawing = Drawing(width, height)
    largest = max((amount for _, amount in items), default=Decimal(0))
    for index, (label, amount) in enumerate(items):
        y = height - (index + 1) * (bar_height + gap)
        length = float(amount / largest) * plot_width if largest > 0 and amount > 0 else 0.0
        drawing.add(
            String(
                label_width - 6,
                y + bar_height * 0.3,
                _fit(label, 34),
                fontName=font,
                fontSize=8,
                fillColor=INK,
                textAnchor="end",
            )
        )
        drawing.add(
            Rect(
                label_width, y, max(length, 0.5), bar_height, fillColor=PALETTE[index % len(PALETTE)], strokeColor=None
            )
        )
        drawing.add(
            String(
                label_width + length + 4,
                y + bar_height * 0.3,
                money_text(amount),
                fontName=font,
                fontSize=8,
                fillColor=MUTED,
            )
        )
    return drawing


def month_bars(
    months: Sequence[tuple[str, Decimal, Decimal]], *, width: float, height: float = 170, font: str = "Helvetica"
) -> Drawing:
    """Income and spending side by side for each month, with a value axis and a legend."""
    drawing = Drawing(width, height)
    left, bottom, top_pad = 46.0, 30.0, 22.0
    plot_w, plot_h = width - left - 6, height - bottom - top_pad
    largest = max([max(i, s) for _, i, s in months] or [Decimal(0)])
    step = _nice_step(largest)
    ticks = max(1, -int(-largest // step))  # ceil: the top tick just covers the largest bar
    top_value = step * ticks
    for tick in range(ticks + 1):
        value = step * tick
        y = bottom + float(value / top_value) * plot_h
        drawing.add(Line(left, y, left + plot_w, y, strokeColor=GRID, strokeWidth=0.5))
        drawing.add(
            String(left - 4, y - 3, _short(value), fontName=font, fontSize=7, fillColor=MUTED, textAnchor="end")
        )
    slot = plot_w / max(len(months), 1)
    bar = min(slot * 0.36, 18)
    label_every = max(1, -(-len(months) // 12))  # at most a dozen month labels
    for index, (label, income, spending) in enumerate(months):
        x = left + index * slot + (slot - 2 * bar) / 2
        for offset, value, color in ((0, income, INCOME), (bar, spending, SPENDING)):
            h = float(max(value, Decimal(0)) / top_value) * plot_h
            drawing.add(Rect(x + offset, bottom, bar, h, fillColor=color, strokeColor=None))
        if index % label_every == 0:
            drawing.add(
                String(x + bar, bottom - 11, label, fontName=font, fontSize=7, fillColor=INK, textAnchor="middle")
            )
    drawing.add(Line(left, bottom, left + plot_w, bottom, strokeColor=MUTED, strokeWidth=0.8))
    legend_y = height - 12
    for offset, name, color in ((0, "Income", INCOME), (70, "Spending", SPENDING)):
        drawing.add(Rect(left + offset, legend_y, 9, 9, fillColor=color, strokeColor=None))
        drawing.add(String(left + offset + 13, legend_y + 1.5, name, fontName=font, fontSize=8, fillColor=INK))
    return drawing
