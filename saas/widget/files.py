"""Files from and for visitors. The widget runs on the tenants' own sites, so these endpoints are
cross-origin and carry no cookie: the widget key names the tenant and the visitor token (signed
for that tenant) names the visitor, as on the /visitor socket."""
from flask import request

from tenants import has_tenant, registry, tenant_session
from tenants.web import enter_request_tenant

from ..extensions import csrf
from ..file_responses import allow_upload_body, form_value, json_errors, posted_response, send_attachment, \
    uploaded_file
from ..security import origins
from ..services import attachments, visitors
from ..services.errors import Invalid, NotFound
from . import bp


def _visitor(key, token):
    tenant = registry.find_by_widget_key(key)
    if tenant is None or not tenant.is_active:
        raise NotFound("unknown_widget_key", "Unknown widget key.")
    if not isinstance(token, str) or not token:
        raise Invalid("bad_token", "The visitor token is not valid for this widget.")
    enter_request_tenant(tenant)
    origins.check_request(tenant_session())
    return tenant, visitors.identify(tenant_session(), tenant, token)


@bp.after_request
def _readable_cross_origin(response):
    if request.endpoint in ("widget.upload", "widget.download"):
        origins.cors_headers(response, tenant_session() if has_tenant() else None)
    return response


@bp.route("/widget/upload", methods=["POST"])
@csrf.exempt  # no cookie is involved: the key and the token in the form are the credentials
@json_errors
def upload():
    allow_upload_body()
    tenant, visitor = _visitor(form_value("key"), form_value("token"))
    name, data = uploaded_file()
    session = tenant_session()
    posted, outcome = attachments.visitor_upload(session, tenant, visitor, client_id=form_value("client_id"),
                                                 name=name, data=data)
    return posted_response(tenant, session, posted, outcome)


@bp.route("/widget/files/<public_id>")
@json_errors
def download(public_id):
    tenant, visitor = _visitor(request.args.get("key"), request.args.get("token"))
    attachment = attachments.for_visitor(tenant_session(), visitor, public_id)
    return send_attachment(tenant, attachment, cross_origin=True)
