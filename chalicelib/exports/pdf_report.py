"""The PDF budget report (API.md "Exports"): totals, budgets with allocated, spent and
state, spending by top-level category and by month as charts, top merchants.

Laid out for someone who hands it to an accountant: a title block saying whose data,
which period and when it was made, numbers right-aligned with two decimals, and a
footer with the period and "page N of M" on every page.
"""

import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from chalicelib.exports import charts
from chalicelib.exports.charts import money_text
from chalicelib.exports.totals import BudgetReport, ReportTotals

# Bitstream Vera ships inside reportlab: Unicode text (accents, €, merchant names in
# any Latin script) without depending on fonts installed in the Lambda image.
_FONT_DIR = Path(reportlab.__file__).parent / "fonts"
FONT, FONT_BOLD = "FiscaVera", "FiscaVera-Bold"
_STATE_COLORS = {"ok": "#15803D", "warning": "#B45309", "exceeded": "#B91C1C"}
_HEAD_BG = colors.HexColor("#EEF2F6")
_RULE = colors.HexColor("#CBD2D9")


def _register_fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(_FONT_DIR / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(_FONT_DIR / "VeraBd.ttf")))


@dataclass(frozen=True)
class ReportHeader:
    date_from: date
    date_to: date
    prepared_for: str
    scope: str
    currencies: list[str]
    include_archived: bool
    generated_at: datetime


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, textColor=charts.INK)
    return {
        "body": base,
        "muted": ParagraphStyle("muted", parent=base, textColor=charts.MUTED, fontSize=8.5),
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=20, leading=24),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=12, leading=16),
        # keepWithNext: a heading never ends a page without what it introduces.
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=13,
            leading=16,
            spaceBefore=14,
            spaceAfter=6,
            keepWithNext=1,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=10.5,
            leading=14,
            spaceBefore=8,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "figure": ParagraphStyle(
            "figure", parent=base, fontName=FONT_BOLD, fontSize=15, leading=18, alignment=TA_RIGHT
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
    }


def _long_date(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def _table(
    rows: list[list], widths: list[float], *, numeric_from: int, total_row: bool = False, size: float = 8.5
) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, size),
        ("FONT", (0, 0), (-1, 0), FONT_BOLD, size),
        ("BACKGROUND", (0, 0), (-1, 0), _HEAD_BG),
        ("TEXTCOLOR", (0, 0), (-1, -1), charts.INK),
        ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, _RULE),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, _RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if total_row:
        style += [("FONT", (0, -1), (-1, -1), FONT_BOLD, 8.5), ("LINEABOVE", (0, -1), (-1, -1), 0.8, charts.INK)]
    table.setStyle(TableStyle(style))
    return table


def _summary(totals: ReportTotals, st: dict, width: float) -> Table:
    labels = ("Income", "Spending", "Net", "Transactions")
    values = (money_text(totals.income), money_text(totals.spending), money_text(totals.net), f"{totals.count:,}")
    table = Table(
        [[Paragraph(v, st["figure"]) for v in values], [Paragraph(label, st["muted"]) for label in labels]],
        colWidths=[width / 4] * 4,
    )
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.8, _RULE),
                ("LINEAFTER", (0, 0), (-2, -1), 0.4, _RULE),
                ("ALIGN", (0, 1), (-1, 1), "RIGHT"),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#F8FAFC")),
                ("TOPPADDING", (0, 0), (-1, 0), 8),
                ("BOTTOMPADDING", (0, 1), (-1, 1), 8),
            ]
        )
    )
    return table


def _share(amount: Decimal, total: Decimal) -> str:
    return f"{amount * 100 / total:.1f} %" if total > 0 else "–"


def _category_section(totals: ReportTotals, st: dict, width: float) -> list:
    flow: list = [Paragraph("Spending by category", st["h2"])]
    groups = [g for g in totals.by_top_category if g.amount != 0]
    if not groups:
        return [*flow, Paragraph("No spending in this period.", st["muted"])]
    flow.append(charts.horizontal_bars([(g.label, g.amount) for g in groups[:12]], width=width, font=FONT))
    flow.append(Spacer(1, 6))
    rows = [["Category", "Transactions", "Amount", "Share"]]
    rows += [
        [
            Paragraph(escape(g.label), st["cell"]),
            f"{g.count:,}",
            money_text(g.amount),
            _share(g.amount, totals.spending),
        ]
        for g in groups
    ]
    rows.append(["Total", f"{sum(g.count for g in groups):,}", money_text(totals.spending), ""])
    flow.append(_table(rows, [width * 0.46, width * 0.16, width * 0.22, width * 0.16], numeric_from=1, total_row=True))
    return flow


def _month_section(totals: ReportTotals, st: dict, width: float) -> list:
    flow: list = [Paragraph("Income and spending by month", st["h2"])]
    if not totals.by_month:
        return [*flow, Paragraph("No transactions in this period.", st["muted"])]
    chart = charts.month_bars([(m.month, m.income, m.spending) for m in totals.by_month], width=width, font=FONT)
    rows = [["Month", "Income", "Spending", "Net", "Transactions"]]
    rows += [
        [m.month, money_text(m.income), money_text(m.spending), money_text(m.net), f"{m.count:,}"]
        for m in totals.by_month
    ]
    rows.append(
        ["Total", money_text(totals.income), money_text(totals.spending), money_text(totals.net), f"{totals.count:,}"]
    )
    return [*flow, chart, Spacer(1, 6), _table(rows, [width * 0.2] * 5, numeric_from=1, total_row=True)]


def _period_text(start: date, end: date) -> str:
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"


def _budget_section(budgets: list[BudgetReport], st: dict, width: float) -> list:
    title = Paragraph("Budgets", st["h2"])
    if not budgets:
        return [title, Paragraph("No budget was active in this period.", st["muted"])]
    flow: list[tuple[list, bool]] = []
    # Sized for "1 Feb - 29 Feb 2024", "Food & Dining > Restaurants", "exceeded" at 8 pt.
    widths = [w * width for w in (0.187, 0.282, 0.122, 0.122, 0.122, 0.068, 0.097)]
    for budget in budgets:
        heading = Paragraph(
            f"{escape(budget.name)} <font color='#616E7C'>· {budget.period_type} · "
            f"{escape(budget.currency or '')}</font>",
            st["h3"],
        )
        if not budget.lines:
            flow.append(([heading, Paragraph("No categories allocated.", st["muted"])], False))
            continue
        rows = [["Period", "Category", "Allocated", "Spent", "Remaining", "Used", "State"]]
        for line in sorted(budget.lines, key=lambda item: (item.period_start, item.category)):
            color = _STATE_COLORS[line.state]
            rows.append(
                [
                    Paragraph(_period_text(line.period_start, line.period_end), st["small"]),
                    Paragraph(escape(line.category), st["small"]),
                    money_text(line.allocated),
                    money_text(line.spent),
                    money_text(line.remaining),
                    f"{line.percent_used:.0f} %",
                    Paragraph(f"<font color='{color}'>{line.state}</font>", st["small"]),
                ]
            )
        table = _table(rows, widths, numeric_from=2, size=8)
        table.setStyle(
            TableStyle(
                [
                    ("ALIGN", (6, 0), (6, -1), "LEFT"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 4),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ]
            )
        )
        flow.append(([heading, table], len(rows) >= 25))
    # The section title travels with the first budget; a short budget stays on one page,
    # a long one splits with its header row repeated (its headings keepWithNext).
    flow[0] = ([title, *flow[0][0]], flow[0][1])
    story: list = []
    for block, long in flow:
        story += block if long else [KeepTogether(block)]
    return story


def _merchant_section(totals: ReportTotals, st: dict, width: float) -> list:
    flow: list = [Paragraph("Top merchants", st["h2"])]
    if not totals.top_merchants:
        return [*flow, Paragraph("No merchant spending in this period.", st["muted"])]
    rows = [["#", "Merchant", "Transactions", "Amount"]]
    rows += [
        [str(i), Paragraph(escape(m.label), st["cell"]), f"{m.count:,}", money_text(m.amount)]
        for i, m in enumerate(totals.top_merchants, 1)
    ]
    return [*flow, _table(rows, [width * 0.06, width * 0.54, width * 0.18, width * 0.22], numeric_from=2)]


def _numbered_canvas(footer: str):
    class NumberedCanvas(canvas.Canvas):
        """Holds every page until the end so the footer can say "page N of M"."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            for number, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self.setFont(FONT, 7.5)
                self.setFillColor(charts.MUTED)
                self.setStrokeColor(_RULE)
                self.line(18 * mm, 14 * mm, A4[0] - 18 * mm, 14 * mm)
                self.drawString(18 * mm, 10 * mm, footer)
                self.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Page {number} of {len(self._pages)}")
                super().showPage()
            super().save()

    return NumberedCanvas


def build_pdf(*, header: ReportHeader, totals: ReportTotals, budgets: list[BudgetReport]) -> bytes:
    """The report as PDF bytes (a few pages: small enough to build in memory)."""
    _register_fonts()
    st = _styles()
    buffer = io.BytesIO()
    period = f"{_long_date(header.date_from)} – {_long_date(header.date_to)}"
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=20 * mm,
        title=f"Budget report {header.date_from} to {header.date_to}",
        author="FiscaFlow",
        subject=f"Budget report for {header.prepared_for}",
    )
    width = doc.width
    currency = ", ".join(header.currencies) or "—"
    if len(header.currencies) > 1:
        currency += " (amounts are added as recorded, not converted)"
    facts = [
        f"Prepared for {escape(header.prepared_for)}",
        f"Accounts: {escape(header.scope)}",
        f"Currency: {escape(currency)}",
        f"Generated {header.generated_at:%d %B %Y, %H:%M} UTC",
    ]
    if header.include_archived:
        facts.append("Includes archived transactions")
    story = [
        Paragraph("Budget report", st["title"]),
        Paragraph(period, st["subtitle"]),
        Spacer(1, 4),
        Paragraph(" · ".join(facts), st["muted"]),
        Spacer(1, 10),
        _summary(totals, st, width),
        Paragraph(
            "Spending is money out minus refunds; cancelled transactions are left out. Income is money in that is "
            "categorised as Income or not categorised.",
            st["muted"],
        ),
    ]
    story += _category_section(totals, st, width)
    story += _month_section(totals, st, width)
    story += _budget_section(budgets, st, width)
    story += _merchant_section(totals, st, width)
    doc.build(story, canvasmaker=_numbered_canvas(f"FiscaFlow · Budget report · {period}"))
    return buffer.getvalue()
