"""What every report returns: named columns, rows of plain values and a totals row. Pages render
it, charts plot it and exports write it, so what is on screen is what is in the file."""
from dataclasses import dataclass, field
from typing import Iterable

from flask_babel import gettext

from saas.i18n import NP_, N_, translated
from saas.models.conversations import CLOSED, OPEN
from saas.services.accounts import ROLE_LABELS
from saas.services.reception_settings import CHANNEL_LABELS

TEXT, COUNT, RATE, NUMBER = "text", "count", "rate", "number"

# What is stored (and what filters and exports take) → the msgid shown for it, per kind of value.
# Values of no kind here (departments, agents, referrers, search terms…) are shown as stored.
VALUE_NAMES = {
    "channel": CHANNEL_LABELS,
    "status": {OPEN: NP_("conversation status", "Open"), CLOSED: NP_("conversation status", "Closed")},
    "sender": {"visitor": N_("Visitor"), "agent": N_("Agent"), "bot": N_("Bot"), "system": N_("System")},
    "source_kind": {"search": N_("Search engine"), "social": N_("Social network"), "referral": N_("Referring site"),
                    "campaign": N_("Campaign"), "direct": N_("Direct"), "internal": N_("Internal")},
    "device_type": {"desktop": N_("Desktop"), "mobile": N_("Mobile"), "tablet": N_("Tablet"), "bot": N_("Bot"),
                    "unknown": N_("Unknown")},
    "handled_by": {"bot": N_("Bot"), "human": N_("Agent"), "both": N_("Bot and agent"), "nobody": N_("Nobody")},
    "export": {"sources": N_("Sources"), "custom": N_("Custom reports"), "agent_work": N_("Agent work"),
               "records": N_("Conversation records")},
    "role": ROLE_LABELS,
    "presence": {"online": N_("online"), "away": N_("away"), "offline": N_("offline")},
    "export_status": {"queued": N_("Queued"), "running": N_("Running"), "done": N_("Done"), "failed": N_("Failed")},
}


def value_name(value, kind: str | None) -> str:
    """A stored value as this request's viewer reads it (``{{ r.channel | value_name("channel") }}``)."""
    name = VALUE_NAMES.get(kind, {}).get(value)
    return str(value) if name is None else translated(name)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = COUNT  # text, count, rate (0..1, shown as a percentage) or number
    values: str | None = None  # a text column's kind of value in VALUE_NAMES, shown by its name

    def display(self, value) -> str:
        if value is None:
            return "–" if self.kind != TEXT else translated(N_("(none)"))
        if self.kind == RATE:
            return f"{value * 100:.1f}%"
        if self.kind == NUMBER:
            return f"{value:,.2f}"
        if self.kind == COUNT:
            return f"{value:,}"
        return value_name(value, self.values)


@dataclass
class ExportRows:
    """What an export writes: a header from ``columns``, then ``rows`` (any iterable, read once)."""
    columns: list[Column]
    rows: Iterable[dict]
    total: int | None = None  # None when counting first would cost as much as exporting


@dataclass
class ReportTable:
    columns: list[Column]
    rows: list[dict]
    totals: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def dimension_columns(self) -> list[Column]:
        return [column for column in self.columns if column.kind == TEXT]

    @property
    def metric_columns(self) -> list[Column]:
        return [column for column in self.columns if column.kind != TEXT]

    def as_export(self) -> ExportRows:
        """The table as on screen, then its totals row (a table without dimensions is its total)."""
        rows = list(self.rows)
        if self.totals is not None and self.dimension_columns:
            rows.append({**self.totals, self.columns[0].key: "Total"})
        return ExportRows(self.columns, rows, len(rows))

    def chart(self, title: str) -> dict:
        """A Plotly figure (data + layout) of the metrics per row; drawn by static/reports.js."""
        labels = [" · ".join(column.display(row[column.key]) for column in self.dimension_columns) or gettext("all")
                  for row in self.rows]
        rates = [column for column in self.metric_columns if column.kind == RATE]
        traces = [{"type": "bar", "name": gettext(column.label), "x": labels,
                   "y": [row[column.key] for row in self.rows],
                   "yaxis": "y2" if column in rates and len(rates) < len(self.metric_columns) else "y"}
                  for column in self.metric_columns]
        layout = {"title": {"text": title}, "barmode": "group", "xaxis": {"automargin": True, "type": "category"},
                  "yaxis": {"title": {"text": ", ".join(gettext(c.label) for c in self.metric_columns if c not in rates)
                                      or gettext("rate")}, "rangemode": "tozero",
                            "tickformat": ".0%" if len(rates) == len(self.metric_columns) else ",d"},
                  "legend": {"orientation": "h"}, "margin": {"t": 50}}
        if rates and len(rates) < len(self.metric_columns):
            layout["yaxis2"] = {"title": {"text": gettext("rate")}, "overlaying": "y", "side": "right",
                                "tickformat": ".0%", "rangemode": "tozero"}
        return {"data": traces, "layout": layout}

    def line_chart(self, title: str, time_key: str) -> dict:
        """One line per metric over time, for reports whose first dimension is the time bucket."""
        figure = self.chart(title)
        for trace, column in zip(figure["data"], self.metric_columns):
            trace.update(type="scatter", mode="lines+markers", x=[row[time_key] for row in self.rows])
        figure["layout"]["xaxis"]["title"] = {"text": gettext("time (tenant's time zone)")}
        return figure
