"""Knowledge-base screens (Flask-Admin) under /t/<slug>/admin/manage/: entries with search and
filters, CSV import and export, and the learning loop, on a live server with both backends."""
import csv
import html
import io
import json
import re
import uuid
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from saas.models import BotTurn, Conversation, Department, KnowledgeEntry, KnowledgeVersion, Visitor, utcnow
from saas.services import knowledge_base
from tenants import tenant_context, tenant_session
from tests.clients import assert_sent_to_login, csrf_token, login, manage_url, submit_form

XSS_ANSWER = '<script>alert(1)</script><b>ok</b><a href="javascript:alert(1)">x</a>'


@pytest.fixture
def team(make_tenant):
    return make_tenant(agents=1, admins=1)


def _admin(server, tenant):
    return login(server.url, tenant.slug, tenant.admins[0].email, tenant.admins[0].password)


def _entry_form(**overrides):
    fields = {"question": "How do I reset my password?", "phrasings": "forgot password\nreset login",
              "answer": "Use the <i>Forgot password</i> link.", "category": "Account", "department_id": "",
              "enabled": True}
    return {**fields, **overrides}


def _entries(app, tenant) -> list[dict]:
    with app.app_context(), tenant_context(tenant.ref):
        rows = tenant_session().scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id)).all()
        return [{"id": r.id, "question": r.question, "phrasings": list(r.phrasings), "answer": r.answer,
                 "category": r.category, "department_id": r.department_id, "enabled": r.enabled,
                 "updated_at": r.updated_at} for r in rows]


def _version(app, tenant) -> int:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().scalar(select(KnowledgeVersion.version))


def _department(app, tenant, name: str) -> int:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        department = Department(name=name, public_name=name)
        session.add(department)
        session.commit()
        return department.id


def _create_entries(app, tenant, *entries: dict) -> list[int]:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        return [knowledge_base.create_entry(session, **{"phrasings": [], "answer": "An answer.", **e}).id
                for e in entries]


def _add_turns(app, tenant, *turns: dict) -> list[int]:
    """BotTurn rows as the bot records them, in one visitor's conversation; ``age`` in minutes."""
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitor = Visitor(public_id=uuid.uuid4().hex, nickname="Visitor")
        session.add(visitor)
        session.flush()
        conversation = Conversation(visitor_id=visitor.id, handler="bot")
        session.add(conversation)
        session.flush()
        rows = []
        for spec in turns:
            spec = dict(spec)
            age = spec.pop("age", 0)
            row = BotTurn(conversation_id=conversation.id, created_at=utcnow() - timedelta(minutes=age), **spec)
            session.add(row)
            rows.append(row)
        session.commit()
        return [row.id for row in rows]


def _reviewed(app, tenant, turn_id) -> bool:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().get(BotTurn, turn_id).reviewed_at is not None


def _learning_rows(page_html: str) -> list[int]:
    return [int(t) for t in re.findall(r'<tr data-turn="(\d+)"', page_html)]


def _upload(http, server, tenant, content: bytes, filename: str = "kb.csv"):
    url = manage_url(server, tenant, "knowledge/import-csv/")
    page = http.get(url)
    assert page.status_code == 200, page.status_code
    return http.post(url, data={"csrf_token": csrf_token(page.text)},
                     files={"file": (filename, content, "text/csv")})


def _csv(*rows) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


# --- entries -------------------------------------------------------------------------------

def test_admin_creates_edits_disables_and_deletes_an_entry(server, app, team):
    http = _admin(server, team)
    sales = _department(app, team, "Sales")
    before = _version(app, team)
    form = http.get(manage_url(server, team, "knowledge/new/"))
    assert form.status_code == 200 and "Sales" in form.text and "No department" in form.text
    assert "one per line" in form.text.lower()

    created = submit_form(http, manage_url(server, team, "knowledge/new/"), **_entry_form(
        phrasings="forgot password\n  reset   login  \n\nforgot password\n", answer=XSS_ANSWER,
        department_id=str(sales)))
    assert created.status_code == 200
    [entry] = _entries(app, team)
    assert entry["question"] == "How do I reset my password?"
    assert entry["phrasings"] == ["forgot password", "reset login"]  # trimmed, blank lines and repeats dropped
    assert "<script" not in entry["answer"] and "alert(1)" not in entry["answer"]
    assert "javascript:" not in entry["answer"] and "<b>ok</b>" in entry["answer"]
    assert (entry["category"], entry["department_id"], entry["enabled"]) == ("Account", sales, True)
    assert _version(app, team) > before  # every server process rebuilds its matcher

    listing = http.get(manage_url(server, team, "knowledge/")).text
    assert "How do I reset my password?" in listing and "Account" in listing and "Sales" in listing

    edit_url = manage_url(server, team, f"knowledge/edit/?id={entry['id']}")
    edit_form = http.get(edit_url).text
    assert "forgot password\nreset login</textarea>" in edit_form  # the list, one per line
    assert f'<option selected value="{sales}">Sales</option>' in edit_form
    before = _version(app, team)
    edited = submit_form(http, edit_url, **_entry_form(question="How can I change my password?",
                                                     phrasings="new password", enabled=False))
    assert edited.status_code == 200
    [entry2] = _entries(app, team)
    assert (entry2["question"], entry2["phrasings"], entry2["enabled"], entry2["department_id"]) == (
        "How can I change my password?", ["new password"], False, None)
    assert entry2["answer"] == "Use the <i>Forgot password</i> link."
    assert entry2["updated_at"] > entry["updated_at"] and _version(app, team) > before

    # A refusal of the service is shown on the form, and nothing is written.
    before = _version(app, team)
    refused = submit_form(http, edit_url, **_entry_form(answer="<script>alert(1)</script>"))
    assert refused.status_code == 200
    assert "The answer is empty once unsafe markup is removed." in refused.text
    assert _entries(app, team) == [entry2] and _version(app, team) == before
    too_long = submit_form(http, manage_url(server, team, "knowledge/new/"), **_entry_form(question="x" * 501))
    assert too_long.status_code == 200 and "The question is at most 500 characters." in too_long.text
    blank = submit_form(http, manage_url(server, team, "knowledge/new/"), **_entry_form(question="   "))
    assert blank.status_code == 200 and "This field is required." in blank.text
    bogus_department = submit_form(http, manage_url(server, team, "knowledge/new/"), **_entry_form(department_id="999"))
    assert "Not a valid choice" in bogus_department.text
    assert _entries(app, team) == [entry2] and _version(app, team) == before

    token = csrf_token(http.get(manage_url(server, team, "knowledge/")).text)
    deleted = http.post(manage_url(server, team, "knowledge/delete/"), data={"csrf_token": token, "id": entry["id"]})
    assert deleted.status_code == 200
    assert _entries(app, team) == [] and _version(app, team) > before


def test_search_and_filters_find_entries(server, app, make_tenant, team):
    http = _admin(server, team)
    sales = _department(app, team, "Sales")
    stranger = make_tenant(admins=1)
    _department(app, stranger, "Secret stranger department")
    _create_entries(app, team,
                    {"question": "How do I get a refund?", "category": "Billing"},
                    {"question": "Where is my order?", "phrasings": ["track my parcel"], "category": "Shipping",
                     "department_id": sales},
                    {"question": "Do you have a newsletter?", "category": "Marketing", "enabled": False,
                     "answer": "Yes, <b>weekly</b> deals."})

    def found(**params):
        page = http.get(manage_url(server, team, "knowledge/"), params=params)
        assert page.status_code == 200, page.status_code
        return {q for q in ("How do I get a refund?", "Where is my order?", "Do you have a newsletter?")
                if html.escape(q, quote=False) in page.text}

    assert found() == {"How do I get a refund?", "Where is my order?", "Do you have a newsletter?"}
    assert found(search="refund") == {"How do I get a refund?"}
    assert found(search="REFUND") == {"How do I get a refund?"}
    assert found(search="parcel") == {"Where is my order?"}  # a phrasing
    assert found(search="shipping") == {"Where is my order?"}  # the category
    assert found(search="weekly") == {"Do you have a newsletter?"}  # the answer
    assert found(search="nothing-like-this") == set()

    listing = http.get(manage_url(server, team, "knowledge/")).text
    groups = json.loads(html.unescape(re.search(r'<div id="filter-groups-data"[^>]*>(.*?)</div>', listing, re.S)
                                      .group(1)))
    assert {"Category", "Enabled", "Department"} <= set(groups)
    [equals] = [f for f in groups["Department"] if f["operation"] == "equals"]
    assert equals["options"] == [[str(sales), "Sales"]]  # this tenant's departments only
    assert "Secret stranger department" not in listing
    [enabled_equals] = [f for f in groups["Enabled"] if f["operation"] == "equals"]
    assert found(**{f"flt0_{equals['arg']}": str(sales)}) == {"Where is my order?"}
    assert found(**{f"flt0_{enabled_equals['arg']}": "0"}) == {"Do you have a newsletter?"}


def test_bulk_delete_goes_through_the_service(server, app, team):
    http = _admin(server, team)
    first, second, kept = _create_entries(app, team, {"question": "One"}, {"question": "Two"}, {"question": "Three"})
    before = _version(app, team)
    listing = http.get(manage_url(server, team, "knowledge/")).text
    for path in ("knowledge/import-csv/", "knowledge/export-csv/", "learning/"):
        assert f'href="/t/{team.slug}/admin/manage/{path}"' in listing
    response = http.post(manage_url(server, team, "knowledge/action/"),
                         data={"csrf_token": csrf_token(listing), "action": "delete", "rowid": [first, second]})
    assert response.status_code == 200 and "Deleted 2 entries." in response.text
    assert [e["id"] for e in _entries(app, team)] == [kept] and _version(app, team) >= before + 2


# --- CSV -----------------------------------------------------------------------------------

def test_csv_import_adds_every_row(server, app, team):
    http = _admin(server, team)
    _department(app, team, "Sales")
    before = _version(app, team)
    content = _csv(("question", "phrasings", "answer", "category", "department", "enabled"),
                   ("What are your prices?", "how much|cost", "See <a href='https://example.com/p'>prices</a>",
                    "Sales", "sales", ""),
                   ("Do you ship abroad?", "", "Yes.\nTo <b>most</b> countries.", "Shipping", "", "false"),
                   ("Can I pay by card?", "credit card", "Yes<script>alert(1)</script>", "", "", "yes"))
    response = _upload(http, server, team, content)
    assert response.status_code == 200 and "Imported 3 entries: 3 added, 0 updated, 0 unchanged." in response.text
    entries = _entries(app, team)
    assert [e["question"] for e in entries] == ["What are your prices?", "Do you ship abroad?", "Can I pay by card?"]
    assert entries[0]["phrasings"] == ["how much", "cost"] and entries[0]["department_id"] is not None
    assert 'href="https://example.com/p"' in entries[0]["answer"]
    assert entries[1]["enabled"] is False and entries[1]["answer"] == "Yes.\nTo <b>most</b> countries."
    assert entries[2]["answer"] == "Yes" and entries[2]["phrasings"] == ["credit card"]
    assert _version(app, team) > before


def test_importing_a_file_again_updates_entries_by_question_instead_of_duplicating(server, app, team):
    http = _admin(server, team)
    columns = ("question", "phrasings", "answer", "enabled")
    first = _csv(columns, ("Do you ship abroad?", "international", "Yes.", "true"),
                 ("Can I pay by card?", "credit card", "Yes.", "true"))
    assert "Imported 2 entries: 2 added, 0 updated, 0 unchanged." in _upload(http, server, team, first).text
    version = _version(app, team)
    assert "Imported 2 entries: 0 added, 0 updated, 2 unchanged." in _upload(http, server, team, first).text
    assert len(_entries(app, team)) == 2 and _version(app, team) == version  # nothing to re-index

    # Matched ignoring case; the columns a file leaves out (phrasings, enabled) keep their values.
    changed = _csv(("question", "answer"), ("DO YOU SHIP ABROAD?", "Yes, to 40 countries."),
                   ("Can I pay by card?", "Yes."), ("Do you take returns?", "Within 30 days."))
    assert "Imported 3 entries: 1 added, 1 updated, 1 unchanged." in _upload(http, server, team, changed).text
    entries = _entries(app, team)
    assert [(e["question"], e["phrasings"], e["answer"]) for e in entries] == [
        ("DO YOU SHIP ABROAD?", ["international"], "Yes, to 40 countries."),
        ("Can I pay by card?", ["credit card"], "Yes."), ("Do you take returns?", [], "Within 30 days.")]
    assert _version(app, team) > version

    twice = _csv(("question", "answer"), ("New question", "One."), ("new  question", "Two."))  # line 3
    refused = _upload(http, server, team, twice)
    assert refused.status_code == 400 and "Line 3: The same question as line 2." in refused.text
    assert len(_entries(app, team)) == 3


def test_csv_import_with_bad_rows_imports_nothing_and_lists_each_line(server, app, team):
    http = _admin(server, team)
    _department(app, team, "Sales")
    before = _version(app, team)
    content = _csv(("question", "phrasings", "answer", "category", "department", "enabled"),  # line 1
                   ("Good one", "", "Fine.", "", "", ""),  # 2
                   ("", "", "No question here.", "", "", ""),  # 3: missing question
                   ("Good two", "", "Fine.", "", "Sales", ""),  # 4
                   ("Empty answer", "", "", "", "", ""),  # 5: answer empty
                   ("Good three", "", "Fine.", "", "", "true"),  # 6
                   ("Unknown department", "", "Fine.", "", "Nowhere", ""))  # 7
    response = _upload(http, server, team, content)
    assert response.status_code == 400
    assert "Nothing was imported." in response.text
    assert [int(n) for n in re.findall(r'<li data-line="(\d+)">', response.text)] == [3, 5, 7]
    assert "Line 3: The question is required." in response.text
    assert "Line 5: The answer is empty once unsafe markup is removed." in response.text
    assert "Line 7: No department called &#39;Nowhere&#39;." in response.text
    assert _entries(app, team) == [] and _version(app, team) == before


def test_csv_import_reports_the_line_a_multiline_row_starts_on(server, app, team):
    http = _admin(server, team)
    content = (b'question,answer\n'  # line 1
               b'Multi,"First line\nsecond line\nthird line"\n'  # lines 2-4: fine
               b',"The question is missing\nover two lines"\n'  # lines 5-6
               b'Too many,values,here\n'  # line 7
               b'Fine,"a\r\nb"\n')  # lines 8-9: fine
    response = _upload(http, server, team, content)
    assert response.status_code == 400
    assert [int(n) for n in re.findall(r'<li data-line="(\d+)">', response.text)] == [5, 7]
    assert "Line 7: more values than columns" in response.text
    assert _entries(app, team) == []

    unreadable = _upload(http, server, team, b'question,"answer' + b"x" * 200_000 + b'"\nq,a\n')
    assert unreadable.status_code == 400
    assert "Line 1: unreadable CSV (field larger than field limit" in unreadable.text
    assert _entries(app, team) == []


@pytest.mark.parametrize("content, message", [
    ("question,answer\nCafé au lait?,Oui\n".encode("latin-1"), "The CSV file must be UTF-8 text."),
    (b"What,Reply\nHello,Hi\n", "The first line must name the columns; missing: answer, question."),
    (b"", "The first line must name the columns; missing: answer, question."),
    (b"question,answer\n", "The CSV file has no entries."),
    (b"question,answer\n" + b"x" * (2 * 1024 * 1024), "A CSV file is at most 2 MB."),
], ids=["not-utf8", "no-header", "empty-file", "header-only", "too-large"])
def test_csv_import_refuses_unreadable_files_clearly(server, app, team, content, message):
    http = _admin(server, team)
    response = _upload(http, server, team, content)
    assert response.status_code == 400
    assert f'<div class="alert alert-danger" role="alert" id="import-error">{message}</div>' in response.text
    assert _entries(app, team) == [] and _version(app, team) == 0


def test_csv_import_without_a_file_or_csrf_token_is_refused(server, app, team):
    http = _admin(server, team)
    url = manage_url(server, team, "knowledge/import-csv/")
    token = csrf_token(http.get(url).text)
    missing = http.post(url, data={"csrf_token": token})
    assert missing.status_code == 400 and "Choose a CSV file to import." in missing.text
    forged = http.post(url, files={"file": ("kb.csv", b"question,answer\nq,a\n", "text/csv")})
    assert forged.status_code == 400
    assert _entries(app, team) == []


def test_export_round_trips_into_another_tenant(server, app, make_tenant, team):
    http = _admin(server, team)
    sales = _department(app, team, "Sales")
    _create_entries(app, team,
                    {"question": "What are your prices?", "phrasings": ["how much", "cost, roughly"],
                     "answer": 'See <a href="https://example.com/p">our "prices"</a>.', "category": "Sales",
                     "department_id": sales},
                    {"question": "Ça marche en français ?", "answer": "Oui.\n<pre>  code  </pre>", "enabled": False},
                    {"question": "Plain", "answer": "Just text, with a comma."})
    exported = http.get(manage_url(server, team, "knowledge/export-csv/"))
    assert exported.status_code == 200
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert exported.headers["Content-Disposition"] == "attachment; filename=knowledge-base.csv"
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8"))))
    assert [r["question"] for r in rows] == ["What are your prices?", "Ça marche en français ?", "Plain"]
    assert rows[0]["department"] == "Sales" and rows[1]["enabled"] == "false"

    other = make_tenant(admins=1)
    _department(app, other, "sales")  # departments match by name, whatever the case
    other_http = _admin(server, other)
    imported = _upload(other_http, server, other, exported.content)
    assert imported.status_code == 200 and "Imported 3 entries: 3 added, 0 updated, 0 unchanged." in imported.text

    def comparable(entries):
        return [{k: e[k] for k in ("question", "phrasings", "answer", "category", "enabled")}
                | {"has_department": e["department_id"] is not None} for e in entries]

    assert comparable(_entries(app, other)) == comparable(_entries(app, team))
    again = other_http.get(manage_url(server, other, "knowledge/export-csv/"))
    assert again.content.replace(b"sales", b"Sales") == exported.content.replace(b"sales", b"Sales")


# --- the learning loop ---------------------------------------------------------------------

def _learning_setup(app, tenant):
    reset, order = _create_entries(app, tenant, {"question": "How do I reset my password?", "category": "Account"},
                                   {"question": "Where is my order?", "category": "Shipping"})
    turns = _add_turns(
        app, tenant,
        {"question": "Can I pay with bitcoin?", "outcome": "fallback", "age": 30},
        {"question": "Do you ship to Mars?", "outcome": "fallback", "age": 20},
        {"question": "Where is my parcel", "outcome": "answered", "entry_id": order, "rating": "not_helpful",
         "age": 10},
        {"question": "reset password", "outcome": "answered", "entry_id": reset, "rating": "helpful", "age": 5},
        {"question": "Old fallback", "outcome": "fallback", "age": 40, "reviewed_at": utcnow()},
        {"question": "passwrd", "outcome": "suggested", "suggested_ids": [reset], "age": 3},
        {"question": "human please", "outcome": "handed_over", "age": 2},
        {"question": "reset my password", "outcome": "answered", "entry_id": reset, "age": 1},
    )
    return reset, order, turns


def test_learning_lists_fallbacks_and_not_helpful_answers_newest_first(server, app, team):
    http = _admin(server, team)
    _, _, (bitcoin, mars, parcel, *_) = _learning_setup(app, team)
    page = http.get(manage_url(server, team, "learning/"))
    assert page.status_code == 200
    assert _learning_rows(page.text) == [parcel, mars, bitcoin]
    questions = re.findall(r'<td class="learning-question">(.*?)</td>', page.text)
    assert questions == ["Where is my parcel", "Do you ship to Mars?", "Can I pay with bitcoin?"]
    assert "3 questions to review" in page.text
    row = re.search(rf'<tr data-turn="{parcel}">(.*?)</tr>', page.text, re.S).group(1)
    assert "rated not helpful" in row and "Where is my order?" in row
    assert "no answer" in re.search(rf'<tr data-turn="{mars}">(.*?)</tr>', page.text, re.S).group(1)


def test_add_as_phrasing_teaches_the_entry_and_hides_the_question(server, app, team):
    http = _admin(server, team)
    _, order, (bitcoin, mars, parcel, *_) = _learning_setup(app, team)
    page = http.get(manage_url(server, team, "learning/")).text
    before = _version(app, team)
    added = http.post(manage_url(server, team, "learning/phrasing/"), allow_redirects=False,
                      data={"csrf_token": csrf_token(page), "turn": parcel, "entry": order})
    assert added.status_code == 302
    [entry] = [e for e in _entries(app, team) if e["id"] == order]
    assert entry["phrasings"] == ["Where is my parcel"]
    assert _version(app, team) > before and _reviewed(app, team, parcel)
    page = http.get(server.url + added.headers["Location"])
    assert "Added as a phrasing." in page.text
    assert _learning_rows(page.text) == [mars, bitcoin]


def test_new_entry_from_a_question_is_prefilled_and_marks_it_reviewed(server, app, team):
    http = _admin(server, team)
    _, _, (bitcoin, mars, parcel, *_) = _learning_setup(app, team)
    page = http.get(manage_url(server, team, "learning/")).text
    row = re.search(rf'<tr data-turn="{mars}">(.*?)</tr>', page, re.S).group(1)
    href = html.unescape(re.search(r'<a class="[^"]*"\s+href="([^"]+)">New entry</a>', row).group(1))
    form = http.get(server.url + href)
    assert form.status_code == 200
    assert 'value="Do you ship to Mars?"' in form.text
    assert re.search(rf'<input id="learning_turn" name="learning_turn" type="hidden" value="{mars}">', form.text)
    saved = http.post(server.url + href, allow_redirects=False, data={
        "csrf_token": csrf_token(form.text), "learning_turn": str(mars), "question": "Do you ship to Mars?",
        "phrasings": "", "answer": "Not <b>yet</b>.", "category": "Shipping", "department_id": "", "enabled": "y"})
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"/t/{team.slug}/admin/manage/learning/")  # back to the list
    assert "Do you ship to Mars?" in [e["question"] for e in _entries(app, team)]
    assert _reviewed(app, team, mars)
    assert _learning_rows(http.get(manage_url(server, team, "learning/")).text) == [parcel, bitcoin]

    # The same question again (another tab): refused, no second entry.
    again = http.post(server.url + href, data={
        "csrf_token": csrf_token(form.text), "learning_turn": str(mars), "question": "Do you ship to Mars?",
        "answer": "Twice", "department_id": "", "enabled": "y"})
    assert again.status_code == 200 and "This question has already been dealt with." in again.text
    assert [e["question"] for e in _entries(app, team)].count("Do you ship to Mars?") == 1


def test_dismiss_and_refusals_change_nothing(server, app, make_tenant, team):
    http = _admin(server, team)
    reset, order, (bitcoin, mars, parcel, helpful, old, suggested, *_) = _learning_setup(app, team)
    token = csrf_token(http.get(manage_url(server, team, "learning/")).text)
    dismissed = http.post(manage_url(server, team, "learning/dismiss/"), data={"csrf_token": token, "turn": bitcoin})
    assert dismissed.status_code == 200 and "Dismissed." in dismissed.text
    assert _reviewed(app, team, bitcoin) and _learning_rows(dismissed.text) == [parcel, mars]
    entries, version = _entries(app, team), _version(app, team)

    def refused(path, status, message, **data):
        response = http.post(manage_url(server, team, path), data={"csrf_token": token, **data})
        assert response.status_code == status, (path, data, response.status_code)
        assert message in response.text, (path, data)

    refused("learning/dismiss/", 409, "This question has already been dealt with.", turn=bitcoin)
    refused("learning/phrasing/", 409, "This question has already been dealt with.", turn=old, entry=order)
    for not_listed in (helpful, suggested):
        refused("learning/phrasing/", 404, "No such question to review.", turn=not_listed, entry=order)
        refused("learning/dismiss/", 404, "No such question to review.", turn=not_listed)
    for bogus in ("", "abc", "-1", "99999999999999999999999", "999999"):
        refused("learning/dismiss/", 404, "No such question to review.", turn=bogus)
    for bogus in ("", "abc", "999999"):
        refused("learning/phrasing/", 404, "No such knowledge-base entry.", turn=mars, entry=bogus)

    # Another tenant's turns and entries are not this tenant's: unknown here, untouched there.
    stranger = make_tenant(admins=1)
    [foreign_entry] = _create_entries(app, stranger, *({"question": f"Stranger {n}"} for n in range(9)))[-1:]
    foreign_turn = _add_turns(app, stranger, *({"question": f"Foreign {n}", "outcome": "fallback"}
                                               for n in range(12)))[-1]
    assert foreign_entry not in {e["id"] for e in entries} and foreign_turn > 8  # ids this tenant does not have
    refused("learning/phrasing/", 404, "No such question to review.", turn=foreign_turn, entry=order)
    refused("learning/dismiss/", 404, "No such question to review.", turn=foreign_turn)
    refused("learning/phrasing/", 404, "No such knowledge-base entry.", turn=mars, entry=foreign_entry)
    new_url = manage_url(server, team, f"knowledge/new/?turn={foreign_turn}")
    prefill = http.get(new_url)
    assert prefill.status_code == 200 and "No such question to review." in prefill.text
    created = http.post(new_url, data={"csrf_token": token, "learning_turn": str(foreign_turn),
                                       "question": "Foreign", "answer": "No", "department_id": "", "enabled": "y"})
    assert created.status_code == 200 and "No such question to review." in created.text

    assert _entries(app, team) == entries and _version(app, team) == version
    assert not _reviewed(app, team, mars) and not _reviewed(app, team, parcel)
    assert not _reviewed(app, stranger, foreign_turn)
    assert [e["phrasings"] for e in _entries(app, stranger)] == [[]] * 9
    assert _learning_rows(http.get(manage_url(server, team, "learning/")).text) == [parcel, mars]


# --- who may --------------------------------------------------------------------------------

KNOWLEDGE_SCREENS = ("knowledge/", "knowledge/new/", "knowledge/edit/?id=1", "knowledge/import-csv/",
                     "knowledge/export-csv/", "learning/")


def test_agents_and_other_tenants_cannot_reach_the_knowledge_screens(server, app, make_tenant, team):
    [entry_id] = _create_entries(app, team, {"question": "Kept?"})
    [turn_id] = _add_turns(app, team, {"question": "Unanswered", "outcome": "fallback"})
    agent_http = login(server.url, team.slug, team.agents[0].email, team.agents[0].password)
    for path in KNOWLEDGE_SCREENS:
        assert agent_http.get(manage_url(server, team, path), allow_redirects=False).status_code == 403, path
    token = csrf_token(agent_http.get(f"{server.url}/t/{team.slug}/console/").text)
    posts = {
        "knowledge/new/": {"question": "Agent's", "answer": "x", "department_id": "", "enabled": "y"},
        f"knowledge/edit/?id={entry_id}": {"question": "Changed", "answer": "x", "department_id": ""},
        "knowledge/delete/": {"id": entry_id},
        "learning/dismiss/": {"turn": turn_id},
        "learning/phrasing/": {"turn": turn_id, "entry": entry_id},
    }
    for path, data in posts.items():
        response = agent_http.post(manage_url(server, team, path), data={"csrf_token": token, **data},
                                   allow_redirects=False)
        assert response.status_code == 403, path
    imported = agent_http.post(manage_url(server, team, "knowledge/import-csv/"), data={"csrf_token": token},
                               files={"file": ("kb.csv", b"question,answer\nq,a\n", "text/csv")},
                               allow_redirects=False)
    assert imported.status_code == 403
    assert [e["question"] for e in _entries(app, team)] == ["Kept?"] and not _reviewed(app, team, turn_id)

    stranger = make_tenant()
    stranger_http = login(server.url, stranger.slug, stranger.owner.email, stranger.owner.password)
    for path in KNOWLEDGE_SCREENS:
        response = stranger_http.get(manage_url(server, team, path), allow_redirects=False)
        assert_sent_to_login(response, team, path)
    anonymous = requests.get(manage_url(server, team, "knowledge/export-csv/"), allow_redirects=False)
    assert_sent_to_login(anonymous, team)


def test_settings_page_links_to_the_knowledge_screens(server, team):
    http = login(server.url, team.slug, team.owner.email, team.owner.password)
    page = http.get(f"{server.url}/t/{team.slug}/admin/").text
    for path in ("knowledge/", "knowledge/import-csv/", "knowledge/export-csv/", "learning/"):
        assert f'href="/t/{team.slug}/admin/manage/{path}"' in page
