"""Knowledge-base screens (Flask-Admin, owners and admins only): the entries with search and
filters, CSV import and export, and the learning loop (questions the bot could not answer).

Views only translate between forms and the services: every write goes through
``saas.services.knowledge_base`` (sanitised answers, the version bump every server process watches)
or ``saas.services.learning``; a refusal is shown on the page, never a 500.
"""
from flask import Response, flash, g, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterEmpty, IntEqualFilter
from flask_admin.form import BaseForm
from flask_admin.helpers import is_form_submitted
from flask_babel import lazy_gettext, ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired

from tenants import tenant_session

from ..models import Department, KnowledgeEntry
from ..services import knowledge_base, learning
from ..services.errors import ServiceError
from ..services.knowledge_base import CSV_COLUMNS, MAX_IMPORT_BYTES, MAX_QUESTION, ImportRefused
from .access import AdminsOnly
from .labels import shared_labels

NO_DEPARTMENT = "No department (every department)"


class LinesField(TextAreaField):
    """A list of texts edited as a textarea, one per line."""

    def _value(self):
        if isinstance(self.data, (list, tuple)):
            return "\n".join(str(item) for item in self.data)
        return self.data or ""

    def process_formdata(self, valuelist):
        text = valuelist[0] if valuelist else ""
        self.data = [line.strip() for line in text.splitlines() if line.strip()]


def _department_id(value):
    if value in (None, "", "None", "__None"):
        return None
    return int(value)  # a ValueError is "Not a valid choice" on the form


class EntryForm(BaseForm):
    question = StringField(lazy_gettext("Question"), validators=[DataRequired()],
                           description=f"What visitors ask, at most {MAX_QUESTION} characters.")
    phrasings = LinesField(lazy_gettext("Other phrasings"),
                           description=lazy_gettext("One per line: other ways visitors ask the same thing."))
    answer = TextAreaField(lazy_gettext("Answer"), validators=[DataRequired()],
                           description="HTML allowed: bold, italics, lists, links, images, code. "
                                       "Scripts and unsafe links are removed when saved.")
    category = StringField(lazy_gettext("Category"))
    department_id = SelectField(lazy_gettext("Department"), coerce=_department_id, choices=[],
                                description="Offer this answer only in one department's conversations, "
                                            "or in all of them.")
    enabled = BooleanField(lazy_gettext("Enabled"), default=True,
                           description=lazy_gettext("Only enabled entries are used by the bot."))
    learning_turn = HiddenField()  # the learning-loop question this entry is made from, if any


def _fields(form) -> dict:
    return {"question": form.question.data or "", "phrasings": list(form.phrasings.data or []),
            "answer": form.answer.data or "", "category": form.category.data or "",
            "department_id": form.department_id.data, "enabled": bool(form.enabled.data)}


def _department_names() -> dict[int, str]:
    """This tenant's departments by id, read once per request."""
    if "kb_department_names" not in g:
        g.kb_department_names = dict(tenant_session().execute(select(Department.id, Department.name)).all())
    return g.kb_department_names


def _refused(exc: ServiceError) -> None:
    tenant_session().rollback()
    flash(exc.message, "error")


class KnowledgeView(AdminsOnly, ModelView):
    form = EntryForm
    list_template = "admin/manage/knowledge_list.html"
    column_list = ("question", "category", "department_id", "enabled", "updated_at")
    column_labels = shared_labels(question=lazy_gettext("Question"), category=lazy_gettext("Category"),
                                  phrasings=lazy_gettext("Phrasings"), answer=lazy_gettext("Answer"))
    # Phrasings are a JSON list: searched as their JSON text, so plain (ASCII) words match, while
    # accented or non-Latin phrasings, stored \u-escaped, are found through the question or answer.
    column_searchable_list = ("question", "phrasings", "answer", "category")
    column_filters = ("category", "enabled", IntEqualFilter(KnowledgeEntry.department_id, lazy_gettext("Department")),
                      FilterEmpty(KnowledgeEntry.department_id, lazy_gettext("Department")))
    column_sortable_list = ("question", "category", "enabled", "updated_at")
    column_default_sort = ("updated_at", True)
    column_formatters = {
        "department_id": lambda view, context, model, name: (
            _department_names().get(model.department_id, "") if model.department_id else ""),
    }
    form_widget_args = {"phrasings": {"rows": 4}, "answer": {"rows": 8}}

    # --- forms: this tenant's departments, and the learning loop's question ---
    def _with_departments(self, form):
        names = sorted(_department_names().items(), key=lambda item: item[1].lower())
        form.department_id.choices = [("", NO_DEPARTMENT), *((str(i), name) for i, name in names)]
        return form

    def create_form(self, obj=None):
        form = self._with_departments(super().create_form(obj))
        if not is_form_submitted():
            turn = request.args.get("turn")
            question = request.args.get("question", "")
            if turn:
                form.learning_turn.data = turn
                if not question:
                    try:
                        question = learning.check_turn(tenant_session(), current_user, turn).question
                    except ServiceError as exc:
                        flash(exc.message, "error")
            if question:
                form.question.data = " ".join(question.split())[:MAX_QUESTION]
        return form

    def edit_form(self, obj=None):
        form = self._with_departments(super().edit_form(obj))
        del form.learning_turn
        return form

    def _get_filter_groups(self):
        """The department filter offers this tenant's departments, worked out per request (the
        view is shared by every tenant, so nothing tenant-specific is cached on it)."""
        groups = super()._get_filter_groups()
        if groups and "Department" in groups:
            options = [(str(i), name) for i, name in sorted(_department_names().items(), key=lambda x: x[1].lower())]
            groups["Department"] = [{**item, "options": options} if item["operation"] == "equals" else item
                                    for item in groups["Department"]]
        return groups

    # --- writes: through the service, never onto the model directly ---
    def create_model(self, form):
        session = tenant_session()
        try:
            if form.learning_turn.data:
                entry = learning.create_entry(session, current_user, form.learning_turn.data, **_fields(form))
            else:
                learning.check_admin(session, current_user)
                entry = knowledge_base.create_entry(session, **_fields(form))
        except ServiceError as exc:
            _refused(exc)
            return False
        return entry

    def update_model(self, form, model):
        session = tenant_session()
        try:
            learning.check_admin(session, current_user)
            knowledge_base.update_entry(session, model.id, **_fields(form))
        except ServiceError as exc:
            _refused(exc)
            return False
        return True

    def delete_model(self, model):
        session = tenant_session()
        try:
            learning.check_admin(session, current_user)
            knowledge_base.delete_entry(session, model.id)
        except ServiceError as exc:
            _refused(exc)
            return False
        return True

    @action("delete", "Delete", "Delete the selected entries?")
    def action_delete(self, ids):
        """Flask-Admin's own bulk delete compares the integer ids with text (an error on
        PostgreSQL) and would bypass the service: each entry goes through ``delete_model``."""
        deleted = 0
        for raw in ids:
            model = tenant_session().get(KnowledgeEntry, int(raw)) if str(raw).isdecimal() else None
            if model is not None and self.delete_model(model):
                deleted += 1
        if deleted:
            flash(f"Deleted {deleted} {'entry' if deleted == 1 else 'entries'}.", "success")

    # --- CSV ---
    @expose("/import-csv/", methods=("GET", "POST"))
    def import_csv_view(self):
        problems, error, status = [], None, 200
        if request.method == "POST":
            session = tenant_session()
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                error, status = "Choose a CSV file to import.", 400
            else:
                data = upload.stream.read(MAX_IMPORT_BYTES + 1)  # enough to tell "too large"
                try:
                    learning.check_admin(session, current_user)
                    result = knowledge_base.import_csv(session, data)
                except ImportRefused as exc:
                    session.rollback()
                    problems, status = exc.problems, exc.status
                except ServiceError as exc:
                    session.rollback()
                    error, status = exc.message, exc.status
                else:
                    flash(ngettext(
                        "Imported %(num)s entry: %(added)s added, %(updated)s updated, %(unchanged)s unchanged.",
                        "Imported %(num)s entries: %(added)s added, %(updated)s updated, %(unchanged)s unchanged.",
                        result.rows, added=result.added, updated=result.updated, unchanged=result.unchanged),
                          "success")
                    return redirect(self.get_url(".index_view"))
        return self.render("admin/manage/knowledge_import.html", problems=problems, error=error,
                           columns=CSV_COLUMNS, max_mb=MAX_IMPORT_BYTES // 1024 // 1024), status

    @expose("/export-csv/")
    def export_csv_view(self):
        return Response(knowledge_base.export_csv(tenant_session()), mimetype="text/csv", headers={
            "Content-Disposition": "attachment; filename=knowledge-base.csv", "Cache-Control": "no-store"})


class LearningView(AdminsOnly, BaseView):
    """Questions the bot could not answer, or whose answer was rated not helpful."""

    @expose("/")
    def index(self):
        return self._page()

    def _page(self, status: int = 200):
        session = tenant_session()
        page = request.args.get("page", "0")
        page = int(page) if page.isdecimal() and len(page) < 7 else 0
        items = learning.unanswered(session, limit=learning.PAGE_SIZE, offset=page * learning.PAGE_SIZE)
        total = learning.unanswered_count(session)
        entries = session.execute(select(KnowledgeEntry.id, KnowledgeEntry.question, KnowledgeEntry.category)
                                  .order_by(KnowledgeEntry.question, KnowledgeEntry.id)).all()
        return self.render("admin/manage/learning.html", items=items, entries=entries, total=total, page=page,
                           page_size=learning.PAGE_SIZE), status

    def _act(self, action, done: str):
        session = tenant_session()
        try:
            action(session)
        except ServiceError as exc:
            session.rollback()
            flash(exc.message, "error")
            return self._page(exc.status)
        flash(done, "success")
        return redirect(url_for(".index"))

    @expose("/phrasing/", methods=("POST",))
    def add_phrasing(self):
        turn, entry = request.form.get("turn"), request.form.get("entry")
        return self._act(lambda session: learning.add_phrasing(session, current_user, turn, entry),
                         "Added as a phrasing.")

    @expose("/dismiss/", methods=("POST",))
    def dismiss(self):
        turn = request.form.get("turn")
        return self._act(lambda session: learning.dismiss(session, current_user, turn), "Dismissed.")


def add_views(admin, session) -> None:
    admin.add_view(KnowledgeView(KnowledgeEntry, session, name=lazy_gettext("Knowledge base"), endpoint="knowledge"))
    admin.add_view(LearningView(name=lazy_gettext("Learning"), endpoint="learning"))
