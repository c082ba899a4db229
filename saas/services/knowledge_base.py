"""The knowledge base's entries: validation, sanitising, CSV import/export, and the version
that tells every server process to rebuild its index."""
import csv
import html as html_module
import io
import re
import threading
from dataclasses import dataclass

import nh3
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tenants import current_tenant

from ..i18n import N_, Label
from ..models import BotTurn, Department, KnowledgeEntry, KnowledgeVersion, utcnow
from ..models.knowledge import ANSWERED
from . import rich_text
from .errors import Invalid, NotFound
from .knowledge import Entry, KnowledgeMatcher

MAX_QUESTION, MAX_PHRASINGS, MAX_ANSWER, MAX_CATEGORY = 500, 50, 10_000, 80
MAX_IMPORT_BYTES, MAX_IMPORT_ROWS = 2 * 1024 * 1024, 5000
CSV_COLUMNS = ("question", "phrasings", "answer", "category", "department", "enabled")
PHRASING_SEPARATOR = "|"
# Rich answers: emphasis, lists, links, code and images; nothing that runs.
ANSWER_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "a", "code", "pre", "img", "blockquote"}
ANSWER_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}


def sanitise_answer(html: str) -> str:
    return rich_text.sanitise(html, ANSWER_TAGS, ANSWER_ATTRIBUTES)


def _plain(value, field: str, limit: int, required: bool = True) -> str:
    """``value`` as one line of text; ``field`` is its name in a refusal (an ``N_``-marked msgid)."""
    if not isinstance(value, str):
        raise Invalid("invalid_entry", "The %(field)s must be text.", field=Label(field))
    value = " ".join(value.split())
    if required and not value:
        raise Invalid("invalid_entry", "The %(field)s is required.", field=Label(field))
    if len(value) > limit:
        raise Invalid("invalid_entry", "The %(field)s is at most %(limit)s characters.", field=Label(field),
                      limit=limit)
    return value


def clean_entry(session: Session, *, question, phrasings, answer, category="", department_id=None,
                enabled=True) -> dict:
    if isinstance(phrasings, str):
        phrasings = phrasings.split(PHRASING_SEPARATOR)
    if not isinstance(phrasings, (list, tuple)):
        raise Invalid("invalid_entry", "Phrasings are a list of texts.")
    cleaned = [_plain(p, N_("phrasing"), MAX_QUESTION, required=False) for p in phrasings]
    if any(PHRASING_SEPARATOR in p for p in cleaned):
        raise Invalid("invalid_entry", "A phrasing cannot contain '%(separator)s' (it separates phrasings in CSV).",
                      separator=PHRASING_SEPARATOR)
    cleaned = list(dict.fromkeys(p for p in cleaned if p))
    if len(cleaned) > MAX_PHRASINGS:
        raise Invalid("invalid_entry", "An entry has at most %(limit)s phrasings.", limit=MAX_PHRASINGS)
    # The limit is on what is stored: sanitising can lengthen an answer (rel attributes on links),
    # and a stored answer must always pass its own next edit. Twice that is read at most.
    if not isinstance(answer, str) or len(answer) > 2 * MAX_ANSWER:
        raise Invalid("invalid_entry", "The answer is text of at most %(limit)s characters.", limit=MAX_ANSWER)
    answer_html = sanitise_answer(answer.strip())  # whitespace kept: it matters inside <pre>
    if len(answer_html) > MAX_ANSWER:
        raise Invalid("invalid_entry", "The answer is text of at most %(limit)s characters.", limit=MAX_ANSWER)
    if not answer_html.strip():
        raise Invalid("invalid_entry", "The answer is empty once unsafe markup is removed.")
    if department_id is not None and session.get(Department, department_id) is None:
        raise Invalid("invalid_entry", "No such department.")
    if not isinstance(enabled, bool):
        raise Invalid("invalid_entry", "Enabled is true or false.")
    return {"question": _plain(question, N_("question"), MAX_QUESTION), "phrasings": cleaned, "answer": answer_html,
            "category": _plain(category or "", N_("category"), MAX_CATEGORY, required=False),
            "department_id": department_id, "enabled": enabled}


def bump_version(session: Session) -> None:
    session.execute(update(KnowledgeVersion).where(KnowledgeVersion.id == 1)
                    .values(version=KnowledgeVersion.version + 1))


def current_version(session: Session) -> int:
    return session.scalar(select(KnowledgeVersion.version).where(KnowledgeVersion.id == 1))


def create_entry(session: Session, **fields) -> KnowledgeEntry:
    entry = KnowledgeEntry(**clean_entry(session, **fields))
    session.add(entry)
    bump_version(session)
    session.commit()
    return entry


def update_entry(session: Session, entry_id: int, **fields) -> KnowledgeEntry:
    entry = session.get(KnowledgeEntry, entry_id)
    if entry is None:
        raise NotFound("entry_not_found", "No such knowledge-base entry.")
    for key, value in clean_entry(session, **fields).items():
        setattr(entry, key, value)
    entry.updated_at = utcnow()
    bump_version(session)
    session.commit()
    return entry


def delete_entry(session: Session, entry_id: int) -> None:
    entry = session.get(KnowledgeEntry, entry_id)
    if entry is None:
        raise NotFound("entry_not_found", "No such knowledge-base entry.")
    session.delete(entry)
    bump_version(session)
    session.commit()


@dataclass(frozen=True)
class ImportProblem:
    line: int
    message: str


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int

    @property
    def rows(self) -> int:
        return self.added + self.updated + self.unchanged


class ImportRefused(Invalid):
    def __init__(self, problems: list[ImportProblem]):
        summary = "; ".join(f"line {p.line}: {p.message}" for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__("import_refused", f"Nothing was imported. {summary}{more}")
        self.problems = problems


def _enabled_from_csv(value: str) -> bool:
    value = (value or "").strip().lower()
    if value in ("", "true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise Invalid("invalid_entry", "Enabled is true or false.")


# What each CSV column sets on an entry it updates: columns the file leaves out keep their values.
_FIELD_OF_COLUMN = {"question": "question", "phrasings": "phrasings", "answer": "answer", "category": "category",
                    "department": "department_id", "enabled": "enabled"}


def _same_question(question: str) -> str:
    return question.casefold()  # whitespace is already collapsed by clean_entry


def import_csv(session: Session, data: bytes) -> ImportResult:
    """Take every row of a CSV file, or none of them: each bad row is reported with its line number
    (the header is line 1). A row whose question an entry already has (ignoring case) updates that
    entry, so importing a file again changes nothing; other rows are added."""
    if len(data) > MAX_IMPORT_BYTES:
        raise Invalid("import_too_large", "A CSV file is at most %(megabytes)s MB.",
                      megabytes=MAX_IMPORT_BYTES // 1024 // 1024)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("import_not_utf8", "The CSV file must be UTF-8 text.") from exc
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None) or []
    except csv.Error as exc:
        raise ImportRefused([ImportProblem(1, f"unreadable CSV ({exc})")]) from exc
    missing = {"question", "answer"} - set(header)
    if missing:
        raise Invalid("import_bad_header", "The first line must name the columns; missing: %(missing)s.",
                      missing=", ".join(sorted(missing)))
    departments = {d.name.lower(): d.id for d in session.scalars(select(Department))}
    rows, problems, lines_of_questions = [], [], {}
    line = reader.line_num + 1
    try:
        for values in reader:
            # A row is reported on the line it starts on: a quoted value may span several lines.
            line, start = reader.line_num + 1, line
            if not values:  # a blank line
                continue
            if len(rows) + len(problems) >= MAX_IMPORT_ROWS:
                raise Invalid("import_too_many_rows", "A CSV file has at most %(limit)s rows.", limit=MAX_IMPORT_ROWS)
            if len(values) > len(header):
                problems.append(ImportProblem(start, "more values than columns"))
                continue
            row = dict(zip(header, map(_from_spreadsheet, values)))
            try:
                department = (row.get("department") or "").strip()
                if department and department.lower() not in departments:
                    raise Invalid("invalid_entry", "No department called '%(department)s'.", department=department)
                entry = clean_entry(
                    session, question=row.get("question") or "", phrasings=row.get("phrasings") or "",
                    answer=row.get("answer") or "", category=row.get("category") or "",
                    department_id=departments.get(department.lower()) if department else None,
                    enabled=_enabled_from_csv(row.get("enabled")),
                )
                first_line = lines_of_questions.setdefault(_same_question(entry["question"]), start)
                if first_line != start:
                    raise Invalid("invalid_entry", "The same question as line %(line)s.", line=first_line)
                rows.append(entry)
            except Invalid as exc:
                problems.append(ImportProblem(start, exc.message))
    except csv.Error as exc:
        raise ImportRefused([*problems, ImportProblem(line, f"unreadable CSV ({exc})")]) from exc
    if problems:
        raise ImportRefused(problems)
    if not rows:
        raise Invalid("import_empty", "The CSV file has no entries.")
    return _add_or_update(session, rows, [field for column, field in _FIELD_OF_COLUMN.items() if column in header])


def _add_or_update(session: Session, rows: list[dict], fields: list[str]) -> ImportResult:
    existing = {}
    for entry in session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id)):
        existing.setdefault(_same_question(entry.question), entry)  # the oldest of earlier duplicates
    added = updated = 0
    for row in rows:
        entry = existing.get(_same_question(row["question"]))
        if entry is None:
            session.add(KnowledgeEntry(**row))
            added += 1
            continue
        changed = {field: row[field] for field in fields if getattr(entry, field) != row[field]}
        if changed:
            for field, value in changed.items():
                setattr(entry, field, value)
            entry.updated_at = utcnow()
            updated += 1
    if added or updated:
        bump_version(session)
        session.commit()
    return ImportResult(added=added, updated=updated, unchanged=len(rows) - added - updated)


# A cell starting with one of these is run as a formula by spreadsheet programs; exported cells
# get a leading apostrophe (shown as text), which import takes off again.
_FORMULA_STARTS = ("=", "+", "-", "@")


def _spreadsheet_safe(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _from_spreadsheet(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS) else value


def export_csv(session: Session) -> str:
    names = {d.id: d.name for d in session.scalars(select(Department))}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id)):
        writer.writerow([_spreadsheet_safe(value) for value in (
            entry.question, PHRASING_SEPARATOR.join(entry.phrasings), entry.answer, entry.category,
            names.get(entry.department_id, ""), "true" if entry.enabled else "false")])
    return out.getvalue()


# --- matching ------------------------------------------------------------------------------
# Each server process keeps one matcher per tenant, rebuilt when the tenant's knowledge-base
# version moves on: an edit made through any process reaches every process's next question.
# Keyed by the widget key, which is random per tenant: a registry id can be reused after a drop
# (SQLite does), and a reused key would hand one tenant another's answers.
_matchers: dict[str, tuple[int, KnowledgeMatcher]] = {}
_matchers_lock = threading.Lock()


def _as_entry(row: KnowledgeEntry) -> Entry:
    return Entry(id=str(row.id), question=row.question, phrasings=tuple(row.phrasings), answer=row.answer,
                 enabled=row.enabled, category=row.category)


def _off_the_event_loop(build):
    """Building an index (and loading the semantic model) is seconds of CPU: under gevent it runs
    in a real thread so the process keeps serving its other sockets meanwhile."""
    from gevent import monkey

    if not monkey.is_module_patched("threading"):
        return build()
    from gevent import get_hub

    return get_hub().threadpool.spawn(build).get()


def matcher(session: Session) -> KnowledgeMatcher:
    key = current_tenant.widget_key
    version = current_version(session)
    cached = _matchers.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    with _matchers_lock:
        cached = _matchers.get(key)
        if cached is None or cached[0] != version:
            entries = [_as_entry(r) for r in session.scalars(select(KnowledgeEntry))]
            semantic = current_app.config["BOT_SEMANTIC"]
            built = _off_the_event_loop(lambda: KnowledgeMatcher(entries, semantic=semantic))
            _matchers[key] = cached = (version, built)
    return cached[1]


_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(p|li|div|h[1-6]|pre|blockquote|tr)>")


def answer_text(html: str) -> str:
    """An answer's HTML as readable plain text: block ends become line breaks, entities are decoded."""
    text = nh3.clean(_BLOCK_END.sub("\n", html), tags=set())
    lines = (" ".join(html_module.unescape(line).split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def top_questions(session: Session, limit: int = 4) -> list[KnowledgeEntry]:
    """The entries the bot answered most often (newest first while there is no history)."""
    answered = (select(BotTurn.entry_id, func.count().label("times")).where(BotTurn.outcome == ANSWERED)
                .group_by(BotTurn.entry_id).subquery())
    return list(session.scalars(
        select(KnowledgeEntry).outerjoin(answered, answered.c.entry_id == KnowledgeEntry.id)
        .where(KnowledgeEntry.enabled.is_(True))
        .order_by(func.coalesce(answered.c.times, 0).desc(), KnowledgeEntry.id.desc()).limit(limit)))
