"""Source analytics: where visits came from and how many of them turned into chats.

Two ways of counting (``unit``):
- **session**: each visit counts under its own source;
- **visitor**: each visitor counts once, under the source of their first visit in the range
  (first touch), and everything they did in the range is credited to it.
Visits, page views and conversations belong to the range by when the visit started; a conversation
belongs to the visit it started in. *Chat conversion rate* is the share of visits (or visitors)
with at least one conversation. By *visited page*, a visit counts under every page it saw, so the
rows add up to more than the total.

Unfiltered, in a whole-hour zone, the figures come from the visit rollup: per visit from its rows
(``rollups.visit_rows``) and visitor sets (``rollups.visitor_counts``), per visitor from its
first-touch sets and visitor days (``rollups.first_touch_rows``; by visited page a visitor counts
under every page they saw, which that does not give, so it reads raw). Every other report reads the
visits (``_raw``), with the same figures."""
from dataclasses import dataclass, replace

from flask_babel import gettext
from sqlalchemy import and_, case, distinct, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from saas.i18n import N_
from saas.models import Conversation, PageView, VisitSession

from . import rollups
from .period import Period, ReportError, parse_period, tenant_time_zone
from .table import RATE, TEXT, Column, ReportTable

UNITS = ("session", "visitor")
CONVERSION_RATE_LABELS = {"session": N_("Chat conversion rate (visits)"),
                          "visitor": N_("Chat conversion rate (visitors)")}
# What a visit can be split or filtered by: its own attributes, fixed by its first page.
SESSION_ATTRIBUTES = {
    "channel": (N_("Channel"), VisitSession.channel),
    "source_kind": (N_("Source kind"), VisitSession.source_kind),
    "referrer_domain": (N_("Referrer domain"), VisitSession.referrer_domain),
    "search_engine": (N_("Search engine"), VisitSession.search_engine),
    "search_terms": (N_("Search term"), VisitSession.search_terms),
    "landing_page": (N_("Landing page"), VisitSession.landing_page),
    "utm_campaign": (N_("UTM campaign"), VisitSession.utm_campaign),
    "utm_source": (N_("UTM source"), VisitSession.utm_source),
    "utm_medium": (N_("UTM medium"), VisitSession.utm_medium),
    "device_type": (N_("Device"), VisitSession.device_type),
}
VISITED_PAGE = rollups.VISITED_PAGE
DIMENSIONS = {**{name: label for name, (label, _) in SESSION_ATTRIBUTES.items()}, VISITED_PAGE: N_("Visited page")}
ROW_LIMIT = 200


@dataclass(frozen=True)
class SourceQuery:
    period: Period
    dimension: str = "channel"
    unit: str = "session"
    filters: tuple[tuple[str, str], ...] = ()

    def parameters(self) -> dict:
        return {**self.period.query_args(), "dimension": self.dimension, "unit": self.unit,
                "filters": dict(self.filters)}


def parse_query(args, period: Period) -> SourceQuery:
    dimension = args.get("dimension") or "channel"
    if dimension not in DIMENSIONS:
        raise ReportError("unknown_dimension", "Unknown dimension %(name)r: choose one of %(choices)s.",
                          name=dimension[:60], choices=", ".join(DIMENSIONS))
    unit = args.get("unit") or "session"
    if unit not in UNITS:
        raise ReportError("unknown_unit", "Count by 'session' or by 'visitor'.")
    filters = clean_filters({name: args.get(name) for name in SESSION_ATTRIBUTES if args.get(name)})
    return SourceQuery(period, dimension, unit, filters)


def clean_filters(filters) -> tuple[tuple[str, str], ...]:
    if not isinstance(filters, dict):
        raise ReportError("invalid_filters", "Filters are pairs of a visit attribute and a value.")
    for name, value in filters.items():
        if name not in SESSION_ATTRIBUTES:
            raise ReportError("unknown_filter", "Cannot filter on %(name)r: use one of %(choices)s.",
                              name=str(name)[:60], choices=", ".join(SESSION_ATTRIBUTES))
        if not isinstance(value, str) or not value or len(value) > 2048:
            raise ReportError("invalid_filter", "The %(name)s filter needs a value of 1 to 2,048 characters.",
                              name=name)
    return tuple(sorted(filters.items()))


def _visits(query: SourceQuery):
    """A select of the visits of the range that pass the filters: the value each is counted under, its
    page views and the conversations started in it."""
    period = query.period
    conditions = [period.contains(VisitSession.started_at),
                  *(SESSION_ATTRIBUTES[name][1] == value for name, value in query.filters)]
    # Conversations are joined as the table, which ix_reports_conversations_visit serves: joined as a
    # subquery of counts per visit instead, SQLite built no index on it and rescanned it for every visit
    # (issue 8). One started in a visit of the range cannot start before the range: PostgreSQL prunes
    # the others through ix_reports_conversations_created.
    started = func.count(Conversation.id).label("started")
    if query.dimension == VISITED_PAGE:
        pages = (select(VisitSession.id.label("session_id"), VisitSession.visitor_id,
                        PageView.url.label("value"), func.count(PageView.id).label("views"))
                 .join(PageView, PageView.session_id == VisitSession.id).where(*conditions)
                 .group_by(VisitSession.id, VisitSession.visitor_id, PageView.url).subquery())
        return (select(*pages.c, started)
                .select_from(pages.outerjoin(Conversation, _started_in(pages.c.session_id, period)))
                .group_by(*pages.c))
    column = SESSION_ATTRIBUTES[query.dimension][1]
    visits = (select(VisitSession.id.label("session_id"), VisitSession.visitor_id, VisitSession.started_at,
                     column.label("value"), VisitSession.page_count.label("views"), started)
              .outerjoin(Conversation, _started_in(VisitSession.id, period)).where(*conditions)
              .group_by(VisitSession.id))  # the primary key: the other columns follow from it
    if query.unit == "session":
        return visits
    visits = visits.subquery()
    first_touch = func.first_value(visits.c.value).over(partition_by=visits.c.visitor_id,
                                                        order_by=(visits.c.started_at, visits.c.session_id))
    return select(visits.c.session_id, visits.c.visitor_id, first_touch.label("value"), visits.c.views,
                  visits.c.started)


def _started_in(session_id, period: Period):
    return and_(Conversation.visit_session_id == session_id, Conversation.created_at >= period.start)


def _aggregate(visits):
    """The metrics of a set of visits (a subquery of session_id, visitor_id, value, views, started)."""
    converted = visits.c.started > 0
    return [
        func.count(distinct(visits.c.visitor_id)).label("visitors"),
        func.count().label("sessions"),
        func.coalesce(func.sum(visits.c.views), 0).label("page_views"),
        func.coalesce(func.sum(visits.c.started), 0).label("conversations"),
        func.count(case((converted, 1))).label("converted_sessions"),
        func.count(distinct(case((converted, visits.c.visitor_id)))).label("converted_visitors"),
    ]


def _rolled_up(session: Session, query: SourceQuery) -> tuple[list[dict], dict]:
    """The report from the visit rollup (``rolled_up`` must hold)."""
    if query.unit == "visitor":
        rows, totals = rollups.first_touch_rows(session, query.dimension, query.period)
        return [_row(query, row) for row in rows[:ROW_LIMIT]], _row(query, totals)
    by_value = rollups.visit_rows(session, query.dimension, query.period)  # in the raw query's order
    shown = by_value[:ROW_LIMIT]
    visitors, everyone = rollups.visitor_counts(session, query.dimension, query.period, [row["value"] for row in shown])
    rows = [_row(query, _rolled_up_values(row, visitors[row["value"]])) for row in shown]
    # By visited page one visit is in several rows: the totals are over whole visits.
    whole_visits = rollups.visit_rows(session, "channel", query.period) if query.dimension == VISITED_PAGE else by_value
    totals = _rolled_up_values({"value": None, **{name: sum(row[name] for row in whole_visits)
                                                  for name in rollups.VISIT_COLUMNS}}, everyone)
    return rows, _row(query, totals)


def _rolled_up_values(row: dict, visitors: int) -> dict:
    return {"value": row["value"], "visitors": visitors, "sessions": row["visits"], "page_views": row["page_views"],
            "conversations": row["conversations"], "converted_sessions": row["converted"]}


def _raw(session: Session, query: SourceQuery) -> tuple[list[dict], dict]:
    """The rows and the totals in one statement, so the visits are read once (a year filtered by
    search: 1.33 s as two statements, issue 8)."""
    visits = _visits(query).cte("visits")
    # By visited page one visit is in several rows: the totals read whole visits instead.
    whole_visits = (_visits(replace(query, dimension="channel", unit="session")).subquery()
                    if query.dimension == VISITED_PAGE else visits)
    position = func.row_number().over(order_by=(func.count().desc(), visits.c.value)).label("position")
    top = (select(position, visits.c.value, *_aggregate(visits)).group_by(visits.c.value)
           .order_by(position).limit(ROW_LIMIT).subquery())
    both = union_all(select(*top.c), select(literal(0).label("position"), null().label("value"), *_aggregate(whole_visits)))
    totals, *rows = [dict(row._mapping) for row in session.execute(both.order_by(both.selected_columns.position))]
    return [_row(query, row) for row in rows], _row(query, totals)


def rolled_up(query: SourceQuery) -> bool:
    """Whether the visit rollup gives ``query``'s report."""
    return (not query.filters and rollups.aligned(query.period)
            and (query.unit == "session" or query.dimension != VISITED_PAGE))


def source_report(session: Session, query: SourceQuery) -> ReportTable:
    rows, totals = (_rolled_up if rolled_up(query) else _raw)(session, query)
    columns = [Column("value", DIMENSIONS[query.dimension], TEXT, values=query.dimension), Column("visitors", N_("Visitors")),
               Column("sessions", N_("Visits")), Column("page_views", N_("Page views")),
               Column("conversations", N_("Conversations started")),
               Column("conversion_rate", CONVERSION_RATE_LABELS[query.unit], RATE)]
    notes = ([gettext("Only the top %(limit)s rows by visits are shown.", limit=ROW_LIMIT)]
             if len(rows) == ROW_LIMIT else [])
    return ReportTable(columns, rows, totals, notes)


def _row(query: SourceQuery, values: dict) -> dict:
    converted, base = ((values["converted_sessions"], values["sessions"]) if query.unit == "session"
                       else (values["converted_visitors"], values["visitors"]))
    return {"value": values["value"], "visitors": values["visitors"], "sessions": values["sessions"],
            "page_views": int(values["page_views"]), "conversations": int(values["conversations"]),
            "conversion_rate": converted / base if base else None}


def query_from_parameters(session: Session, parameters: dict) -> SourceQuery:
    """A query back from ``SourceQuery.parameters()`` (a saved export), checked again."""
    if not isinstance(parameters, dict):
        raise ReportError("invalid_parameters", "Malformed report parameters.")
    clean_filters(parameters.get("filters", {}))
    args = {**{key: value for key, value in parameters.items() if key != "filters"}, **parameters.get("filters", {})}
    return parse_query(args, parse_period(args, tenant_time_zone(session)))


def export_parameters(session: Session, args) -> dict:
    return parse_query(args, parse_period(args, tenant_time_zone(session))).parameters()


def export_rows(session: Session, parameters: dict):
    return source_report(session, query_from_parameters(session, parameters)).as_export()
