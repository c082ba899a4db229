"""Inbound texts, call events and API messages: check the sender, call the channel's service, tell
the agents. Answers are ``{ok: false, error: {code, message}}`` with a 4xx for anything refused."""
from flask import Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from tenants import current_tenant, tenant_session

from ..file_responses import error, json_errors, posted_response
from ..models import Visitor
from ..realtime import broadcast
from ..services import api_channel, calls, channel_settings, sms
from ..services.errors import Invalid
from . import bp

# Texts are short and callbacks small: anything larger is refused before it is read.
MAX_BODY_BYTES = 64 * 1024
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@bp.before_request
def _small_bodies():
    request.max_content_length = MAX_BODY_BYTES


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    return error("too_large", f"The request body is larger than {MAX_BODY_BYTES // 1024} KB.", 413)


def _signed_form() -> dict:
    """The provider's form fields, once its signature over this URL and them is verified."""
    params = list(request.form.items(multi=True))
    sms.verify_signature(tenant_session(), request.url, params, request.headers.get(sms.SIGNATURE_HEADER))
    return request.form.to_dict()


def _twiml() -> Response:
    """An empty TwiML answer: received, nothing to say back (replies go through the outbound provider)."""
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.route("/sms/inbound", methods=["POST"])
@json_errors
def sms_inbound():
    session = tenant_session()
    _posted, outcome = sms.receive_text(session, _signed_form())
    broadcast.outcome(current_tenant, session, outcome)
    return _twiml()


@bp.route("/sms/voice", methods=["POST"])
@json_errors
def sms_voice():
    session = tenant_session()
    recorded = calls.receive_call_event(session, _signed_form())
    if recorded.is_new:
        visitor = session.get(Visitor, recorded.event.visitor_id)
        broadcast.to_agents(current_tenant, "call:event", calls.call_dict(recorded.event, visitor))
    return _twiml()


def _json_body():
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise Invalid("invalid_json", "The body is not valid JSON.")
    return body


@bp.route("/api/v1/messages", methods=["POST"])
@json_errors
def api_inbound():
    session = tenant_session()
    channel_settings.authenticate(session, request.headers.get("Authorization"))
    posted, outcome = api_channel.receive(session, _json_body(), request.headers.get("Idempotency-Key"))
    response = posted_response(current_tenant, session, posted, outcome)
    response.status_code = 201 if posted.is_new else 200
    return response
