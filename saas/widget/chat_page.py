"""The standalone chat page (a shareable link for mobile sites, apps and QR codes) and the logo the
widget shows. Both are public: the widget key in the URL names the tenant, as on the /visitor socket."""
from io import BytesIO

from flask import render_template, request, send_file

from tenants import registry, tenant_session
from tenants.web import enter_request_tenant

from ..file_responses import error
from ..services import widget_look
from ..services.file_types import FILE_TYPES
from . import bp

# The logo's URL carries the look's version, so a cached copy is never out of date.
_A_YEAR = 365 * 24 * 3600


@bp.route("/chat/<widget_key>")
def chat_page(widget_key):
    tenant = enter_request_tenant(registry.find_by_widget_key(widget_key))
    return render_template("widget/chat_page.html", tenant=tenant,
                           look=widget_look.contrast(widget_look.look(tenant_session()).color))


@bp.route("/widget/look/logo")
def logo():
    enter_request_tenant(registry.find_by_widget_key(request.args.get("key")))
    stored = widget_look.look(tenant_session())
    if stored.logo_type is None:
        return error("no_logo", "This widget has no logo.", 404)
    response = send_file(BytesIO(stored.logo), mimetype=FILE_TYPES[stored.logo_type].content_type,
                         max_age=_A_YEAR if request.args.get("v") == str(stored.version) else 0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Shown by the widget on the tenants' own sites.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
