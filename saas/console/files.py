"""Files in the console: an agent sends one into a conversation, and opens or downloads any file
of their workspace's conversations (login session; CSRF-checked uploads)."""
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from tenants import current_tenant, tenant_session

from ..auth.sessions import role_required
from ..extensions import csrf
from ..file_responses import allow_upload_body, error, form_value, json_errors, posted_response, \
    send_attachment, uploaded_file
from ..models import ROLES, User
from ..services import attachments
from . import bp


@bp.route("/conversations/<int:conversation_id>/files", methods=["POST"])
@csrf.exempt  # checked below, once the body may be as large as a file
@json_errors
def upload(conversation_id):
    allow_upload_body()
    if not current_user.is_authenticated:
        return error("unauthorized", "Log in to this workspace first.", 401)
    if current_user.role not in ROLES:
        return error("forbidden", "Your role does not allow this.", 403)
    try:
        csrf.protect()
    except CSRFError:
        return error("csrf_failed", "The page is out of date: reload it and send the file again.", 400)
    name, data = uploaded_file()
    session = tenant_session()
    agent = session.get(User, current_user.id)
    posted, outcome = attachments.agent_upload(session, current_tenant, agent, conversation_id,
                                               client_id=form_value("client_id"), name=name, data=data)
    return posted_response(current_tenant, session, posted, outcome)


@bp.route("/files/<public_id>")
@role_required(*ROLES)
@json_errors
def download(public_id):
    return send_attachment(current_tenant, attachments.for_agent(tenant_session(), public_id), cross_origin=False)
