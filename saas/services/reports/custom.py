"""Custom reports: an admin picks dimensions, metrics, filters and a granularity; the engine turns
the choice into one grouped SQL query per fact table the metrics come from, and joins the results.

Facts: conversations (by when they started), messages (when sent), visits (when they started) and
ratings (when given). A dimension splits a metric only if its fact has it (every fact has time,
channel and the visit's source; only conversations have a status)."""
from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import case, distinct, exists, func, select
from sqlalchemy.orm import Session, aliased, outerjoin

from saas.models import Conversation, ConversationRating, Department, Message, SavedReport, User, VisitSession
from saas.i18n import N_, Label
from saas.services.errors import NotFound

from . import rollups
from .period import Period, ReportError, parse_period, tenant_time_zone
from .table import COUNT, NUMBER, RATE, TEXT, Column, ReportTable

MAX_DIMENSIONS, MAX_METRICS, ROW_LIMIT = 2, 6, 500
NAME_MAX = 120


@dataclass(frozen=True)
class Fact:
    """A fact table, when its rows happened, and the optional joins its dimensions need."""
    name: str
    table: object
    time_column: object
    joins: dict = field(default_factory=dict)  # join name -> (target, on clause)


def _fact_joins(conversation_of, department_key, agent_key):
    """Joins of a fact reaching a conversation, and the department and agent aliases they use."""
    department, agent = aliased(Department), aliased(User)
    joins = {"department": (department, department.id == department_key),
             "agent": (agent, agent.id == agent_key),
             "visit": (VisitSession, VisitSession.id == Conversation.visit_session_id)}
    if conversation_of is not None:
        joins = {"conversation": (Conversation, Conversation.id == conversation_of), **joins}
    return joins, department, agent


_conversation_joins, _conversation_department, _conversation_agent = _fact_joins(
    None, Conversation.department_id, Conversation.assigned_agent_id)
_message_joins, _message_department, _message_agent = _fact_joins(
    Message.conversation_id, Conversation.department_id, Conversation.assigned_agent_id)
_rating_joins, _rating_department, _rating_agent = _fact_joins(
    ConversationRating.conversation_id, ConversationRating.department_id, ConversationRating.agent_id)

FACTS = {
    "conversations": Fact("conversations", Conversation, Conversation.created_at, _conversation_joins),
    "messages": Fact("messages", Message, Message.created_at, _message_joins),
    "visits": Fact("visits", VisitSession, VisitSession.started_at),
    "ratings": Fact("ratings", ConversationRating, ConversationRating.created_at, _rating_joins),
}
_VISIT_ATTRIBUTES = {"source_kind": N_("Source kind"), "referrer_domain": N_("Referrer domain"),
                     "search_engine": N_("Search engine"), "search_terms": N_("Search terms"),
                     "landing_page": N_("Landing page"), "utm_campaign": N_("UTM campaign"),
                     "device_type": N_("Device type")}
# dimension -> (label, {fact: (expression, joins it needs)})
DIMENSIONS = {
    "time": (N_("Time"), {}),  # every fact: the period's bucket of the fact's time
    "channel": (N_("Channel"), {"conversations": (Conversation.channel, ()),
                            "messages": (Conversation.channel, ("conversation",)),
                            "ratings": (Conversation.channel, ("conversation",)),
                            "visits": (VisitSession.channel, ())}),
    "department": (N_("Department"), {"conversations": (_conversation_department.name, ("department",)),
                                  "messages": (_message_department.name, ("conversation", "department")),
                                  "ratings": (_rating_department.name, ("department",))}),
    "agent": (N_("Agent"), {"conversations": (_conversation_agent.display_name, ("agent",)),
                        "messages": (_message_agent.display_name, ("conversation", "agent")),
                        "ratings": (_rating_agent.display_name, ("agent",))}),
    "status": (N_("Conversation status"), {"conversations": (Conversation.status, ())}),
    "sender": (N_("Sender"), {"messages": (Message.sender_type, ())}),
    **{name: (label,
              {"conversations": (getattr(VisitSession, name), ("visit",)),
               "messages": (getattr(VisitSession, name), ("conversation", "visit")),
               "ratings": (getattr(VisitSession, name), ("conversation", "visit")),
               "visits": (getattr(VisitSession, name), ())})
       for name, label in _VISIT_ATTRIBUTES.items()},
}
_has_conversation = exists().where(Conversation.visit_session_id == VisitSession.id)


@dataclass(frozen=True)
class Metric:
    label: str
    fact: str
    expression: object
    kind: str = COUNT
    # A rate is numerator / expression, computed after the query so the merge can re-add parts.
    numerator: object = None


METRICS = {
    "conversations": Metric(N_("Conversations"), "conversations", func.count(Conversation.id)),
    "closed_conversations": Metric(N_("Closed conversations"), "conversations",
                                   func.count(case((Conversation.status == "closed", 1)))),
    "messages": Metric(N_("Messages"), "messages", func.count(Message.id)),
    "visitor_messages": Metric(N_("Visitor messages"), "messages", func.count(case((Message.sender_type == "visitor", 1)))),
    "agent_messages": Metric(N_("Agent messages"), "messages", func.count(case((Message.sender_type == "agent", 1)))),
    "bot_messages": Metric(N_("Bot messages"), "messages", func.count(case((Message.sender_type == "bot", 1)))),
    "visits": Metric(N_("Visits"), "visits", func.count(VisitSession.id)),
    "visitors": Metric(N_("Visitors"), "visits", func.count(distinct(VisitSession.visitor_id))),
    "page_views": Metric(N_("Page views"), "visits", func.coalesce(func.sum(VisitSession.page_count), 0)),
    "chat_conversion_rate": Metric(N_("Chat conversion rate (visits)"), "visits", func.count(VisitSession.id), RATE,
                                   func.count(case((_has_conversation, 1)))),
    "ratings": Metric(N_("Ratings"), "ratings", func.count(ConversationRating.id)),
    "average_rating": Metric(N_("Average rating (1-5)"), "ratings", func.count(ConversationRating.id), NUMBER,
                             func.coalesce(func.sum(ConversationRating.score), 0)),
}


@dataclass(frozen=True)
class Definition:
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    filters: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict:
        return {"dimensions": list(self.dimensions), "metrics": list(self.metrics), "filters": dict(self.filters)}


def _names(values, kind: str) -> list[str]:
    if not isinstance(values, (list, tuple)) or not all(isinstance(value, str) for value in values):
        raise ReportError(f"invalid_{kind}", "%(kind)s must be a list of names.", kind=kind.capitalize())
    return list(dict.fromkeys(value for value in values if value))


def parse_definition(data) -> Definition:
    """Check an admin's choice (from the builder's form or a saved report) against the registries."""
    if not isinstance(data, dict):
        raise ReportError("invalid_definition", "A report definition has dimensions, metrics and filters.")
    dimensions, metrics = _names(data.get("dimensions", []), "dimensions"), _names(data.get("metrics", []), "metrics")
    for name in dimensions:
        if name not in DIMENSIONS:
            raise ReportError("unknown_dimension", "Unknown dimension %(name)r.", name=name[:60])
    for name in metrics:
        if name not in METRICS:
            raise ReportError("unknown_metric", "Unknown metric %(name)r.", name=name[:60])
    if len(dimensions) > MAX_DIMENSIONS:
        raise ReportError("too_many_dimensions", "Choose at most %(limit)s dimensions.", limit=MAX_DIMENSIONS)
    if not 1 <= len(metrics) <= MAX_METRICS:
        raise ReportError("metrics_needed", "Choose 1 to %(limit)s metrics.", limit=MAX_METRICS)
    filters = data.get("filters") or {}
    if not isinstance(filters, dict):
        raise ReportError("invalid_filters", "Filters are pairs of a dimension and a value.")
    for name, value in filters.items():
        if name not in DIMENSIONS or name == "time":
            raise ReportError("unknown_filter", "Cannot filter on %(name)r.", name=str(name)[:60])
        if not isinstance(value, str) or not 0 < len(value) <= 2048:
            raise ReportError("invalid_filter", "The %(name)s filter needs a value of 1 to 2,048 characters.",
                              name=name)
    for name in metrics:
        fact = METRICS[name].fact
        for dimension in [*dimensions, *filters]:
            if dimension != "time" and fact not in DIMENSIONS[dimension][1]:
                raise ReportError("incompatible", "%(metric)s cannot be split or filtered by “%(dimension)s”.",
                                  metric=Label(METRICS[name].label), dimension=Label(DIMENSIONS[dimension][0]))
    return Definition(tuple(dimensions), tuple(metrics), tuple(sorted(filters.items())))


def definition_from_args(args) -> Definition:
    """The builder's query string: ``dimension`` and ``metric`` repeated, filters as ``f.<dimension>``."""
    return parse_definition({"dimensions": args.getlist("dimension"), "metrics": args.getlist("metric"),
                             "filters": {key[2:]: value for key, value in args.items()
                                         if key.startswith("f.") and value}})


def _query(fact: Fact, definition: Definition, period: Period, metrics: list[str], grouped: bool):
    dimension_columns, needed = [], []
    for name in definition.dimensions:
        if name == "time":
            dimension_columns.append(period.bucket(fact.time_column).label(name))
        else:
            expression, joins = DIMENSIONS[name][1][fact.name]
            dimension_columns.append(expression.label(name))
            needed += joins
    conditions = [period.contains(fact.time_column)]
    for name, value in definition.filters:
        expression, joins = DIMENSIONS[name][1][fact.name]
        conditions.append(expression == value)
        needed += joins
    selected = []
    for name in metrics:
        metric = METRICS[name]
        selected.append(metric.expression.label(name))
        if metric.numerator is not None:
            selected.append(metric.numerator.label(f"{name}__numerator"))
    from_clause = fact.table
    for join in dict.fromkeys(needed):
        target, on = fact.joins[join]
        from_clause = outerjoin(from_clause, target, on)
    statement = select(*(dimension_columns if grouped else []), *selected).select_from(from_clause).where(*conditions)
    return statement.group_by(*dimension_columns) if grouped and dimension_columns else statement


def _fact_results(session: Session, fact: Fact, definition: Definition, period: Period,
                  metrics: list[str]) -> tuple[list[dict], dict]:
    """One fact table's grouped rows and totals: from its rollup when it has every piece asked for."""
    if rollups.covers(fact.name, definition.dimensions, definition.filters, period, metrics):
        return rollups.report(session, fact.name, definition.dimensions, definition.filters, period, metrics)
    grouped = [dict(row._mapping) for row in session.execute(_query(fact, definition, period, metrics, grouped=True))]
    return grouped, dict(session.execute(_query(fact, definition, period, metrics, grouped=False)).one()._mapping)


def _finish(metrics: list[str], values: dict) -> dict:
    row = {}
    for name in metrics:
        metric = METRICS[name]
        value = values.get(name) or 0
        if metric.numerator is None:
            row[name] = int(value)
        else:
            row[name] = values.get(f"{name}__numerator", 0) / value if value else None
    return row


def run_report(session: Session, definition: Definition, period: Period) -> ReportTable:
    by_fact: dict[str, list[str]] = {}
    for name in definition.metrics:
        by_fact.setdefault(METRICS[name].fact, []).append(name)
    merged: dict[tuple, dict] = {}
    totals: dict = {}
    for fact_name, metrics in by_fact.items():
        grouped, fact_totals = _fact_results(session, FACTS[fact_name], definition, period, metrics)
        for values in grouped:
            key = tuple(values[name] for name in definition.dimensions)
            merged.setdefault(key, {}).update(values)
        totals.update(fact_totals)
    if definition.dimensions == ("time",):
        for label in period.bucket_labels():  # an empty bucket is a 0 on the chart, not a gap
            merged.setdefault((label,), {})
    rows = [{**dict(zip(definition.dimensions, key)), **_finish(list(definition.metrics), values)}
            for key, values in merged.items()]
    rows.sort(key=lambda row: _sort_key(definition, row))
    columns = [Column(name, DIMENSIONS[name][0], TEXT, values=name) for name in definition.dimensions]
    columns += [Column(name, METRICS[name].label, METRICS[name].kind) for name in definition.metrics]
    notes = ([gettext("Only the first %(limit)s of %(count)s rows are shown.", limit=ROW_LIMIT, count=f"{len(rows):,}")]
             if len(rows) > ROW_LIMIT else [])
    return ReportTable(columns, rows[:ROW_LIMIT], {**{name: None for name in definition.dimensions},
                                                   **_finish(list(definition.metrics), totals)}, notes)


def _sort_key(definition: Definition, row: dict):
    """Time in order; otherwise the largest first metric first, ties by name."""
    first = row[definition.metrics[0]]
    time_part = row["time"] if "time" in definition.dimensions else ""
    names = tuple(str(row[name] or "") for name in definition.dimensions if name != "time")
    return (time_part, -(first or 0), names)


def chart(table: ReportTable, definition: Definition, title: str) -> dict:
    """Over time: a line per metric (or per value of the other dimension); else grouped bars."""
    if "time" not in definition.dimensions:
        return table.chart(title)
    others = [name for name in definition.dimensions if name != "time"]
    if not others:
        return table.line_chart(title, "time")
    metric, other = table.metric_columns[0], others[0]
    series: dict = {}
    for row in table.rows:
        series.setdefault(row[other], ([], []))
        series[row[other]][0].append(row["time"])
        series[row[other]][1].append(row[metric.key])
    figure = table.chart(title)
    figure["data"] = [{"type": "scatter", "mode": "lines+markers", "name": str(value or "(none)"), "x": x, "y": y}
                      for value, (x, y) in series.items()]
    figure["layout"]["yaxis"]["title"] = {"text": gettext(metric.label)}
    figure["layout"]["xaxis"]["title"] = {"text": gettext("time (tenant's time zone)")}
    return figure


# Saved definitions --------------------------------------------------------------------------------

def save_report(session: Session, user_id: int, name, data: dict) -> SavedReport:
    name = str(name or "").strip()
    if not 0 < len(name) <= NAME_MAX:
        raise ReportError("invalid_name", "Give the report a name of 1 to %(limit)s characters.", limit=NAME_MAX)
    definition = parse_definition(data).as_dict()
    definition["granularity"] = data.get("granularity") or "day"
    report = SavedReport(name=name, definition=definition, created_by_id=user_id)
    session.add(report)
    session.commit()
    return report


def saved_reports(session: Session) -> list[SavedReport]:
    return list(session.scalars(select(SavedReport).order_by(SavedReport.name, SavedReport.id)))


def saved_report(session: Session, report_id) -> SavedReport:
    report = session.get(SavedReport, report_id) if str(report_id).isdigit() else None
    if report is None:
        raise NotFound("report_not_found", "No such saved report in this workspace.")
    return report


def delete_report(session: Session, report_id) -> None:
    session.delete(saved_report(session, report_id))
    session.commit()


def export_parameters(session: Session, args) -> dict:
    period = parse_period(args, tenant_time_zone(session))
    return {**period.query_args(), "definition": definition_from_args(args).as_dict()}


def export_rows(session: Session, parameters: dict):
    """``parameters``: the period's query arguments and ``definition`` (as ``Definition.as_dict``)."""
    if not isinstance(parameters, dict):
        raise ReportError("invalid_parameters", "Malformed report parameters.")
    period = parse_period(parameters, tenant_time_zone(session))
    return run_report(session, parse_definition(parameters.get("definition")), period).as_export()
