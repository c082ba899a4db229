"""The widget's strings in the visitor's language, fetched before the widget draws itself: the
workspace's fixed language, else the browser's (its ``Accept-Language``). Public, like the widget
script: the key names the workspace."""
from flask import jsonify, request

from tenants import registry, tenant_session
from tenants.web import enter_request_tenant

from .. import i18n
from ..security import origins
from ..services import languages
from . import bp


@bp.route("/widget/i18n.json")
def texts():
    enter_request_tenant(registry.find_by_widget_key(request.args.get("key")))
    language = languages.widget_language(tenant_session(), i18n.browser_languages())
    response = jsonify(language=language, texts=i18n.script_texts(language))
    origins.cors_headers(response, tenant_session())  # read by the widget on the tenant's allowed sites
    response.headers["Vary"] = "Accept-Language"
    response.cache_control.public = True
    response.cache_control.max_age = 300  # a changed workspace language reaches visitors within 5 minutes
    return response
