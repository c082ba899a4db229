"""The widget's look (owners and admins only): colour, side, texts, logo, hiding outside business hours,
with a live preview, the text-contrast check, and the standalone chat link with its QR code.

The rules are in ``saas.services.widget_look``; this view reads the form and shows the outcome.
"""
import io

import segno
from flask import Response, flash, jsonify, request, url_for
from flask_admin import expose
from flask_babel import lazy_gettext

from tenants import current_tenant, tenant_session

from ..file_responses import error
from ..models.widget_look import POSITIONS
from ..services import widget_look as rules
from ..services.errors import Invalid
from .access import SettingsFormView

_TEXT_FIELDS = ("color", "position", "launcher_text", "greeting")


def chat_page_url() -> str:
    return url_for("widget.chat_page", widget_key=current_tenant.widget_key, _external=True)


class WidgetLookView(SettingsFormView):
    saved_message = "Widget look saved: visitors see it the next time a page with the widget loads."

    def submitted(self, form) -> dict:
        upload = request.files.get("logo")
        logo = upload.stream.read() if upload is not None and upload.filename else None
        return {**{name: form.get(name, "") for name in _TEXT_FIELDS},
                "hide_outside_hours": "hide_outside_hours" in form,  # an unchecked box is simply absent
                "remove_logo": "remove_logo" in form, "logo": logo}

    def stored(self, session) -> dict:
        look = rules.look(session)
        return {**{name: getattr(look, name) for name in _TEXT_FIELDS},
                "hide_outside_hours": look.hide_outside_hours, "remove_logo": False, "logo": None}

    def save(self, session, values: dict) -> None:
        stored = rules.update(session, **values)
        session.commit()
        warning = rules.contrast(stored.color).warning
        if warning:
            flash(warning, "warning")

    def render_form(self, values: dict):
        stored = rules.look(tenant_session())
        return self.render(
            "admin/manage/widget_look.html", values=values, positions=POSITIONS, contrast=_contrast_or_none(values),
            has_logo=stored.logo_type is not None, version=stored.version, chat_url=chat_page_url(),
            max_logo_kb=rules.MAX_LOGO_BYTES // 1024, widget_key=current_tenant.widget_key,
        )

    @expose("/contrast")
    def check_contrast(self):
        """The text colour the widget would use on ``?color=`` and the AA warning, for the live preview."""
        try:
            chosen = rules.contrast(request.args.get("color"))
        except Invalid as exc:
            return error(exc.code, exc.message, exc.status)
        return jsonify({"ok": True, "color": chosen.color, "text_color": chosen.text_color, "ratio": chosen.ratio,
                        "warning": chosen.warning})

    @expose("/qr.svg")
    def qr_code(self):
        """The standalone chat page's address as a QR code, to print or put on a mobile site."""
        svg = io.BytesIO()
        segno.make(chat_page_url(), error="m").save(svg, kind="svg", scale=6, border=2, title="Chat with us")
        response = Response(svg.getvalue(), mimetype="image/svg+xml")
        if "download" in request.args:
            response.headers["Content-Disposition"] = "attachment; filename=chat-qr-code.svg"
        return response


def _contrast_or_none(values: dict) -> rules.Contrast | None:
    try:
        return rules.contrast(values["color"])
    except Invalid:
        return None  # the refusal is already shown


def add_views(admin) -> None:
    admin.add_view(WidgetLookView(name=lazy_gettext("Widget look"), endpoint="widget_look"))
