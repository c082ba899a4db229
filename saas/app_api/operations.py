"""Each endpoint of the app API is declared once, as an Operation: the URL rule, the checks every
call goes through (tenant, app key, the user's token, a strictly validated body or query) and
its OpenAPI description all come from that one declaration."""
import functools
from dataclasses import dataclass

from flask import current_app, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from tenants import TenantRef, current_tenant, tenant_session

from ..extensions import csrf
from ..file_responses import json_errors
from ..models import Visitor
from ..services import app_channel, visitors
from ..services.attachments import TooLarge
from ..services.errors import Invalid, ServiceError, validation_message
from . import bp

APP_KEY_HEADER = "X-App-Key"
# Room for the longest message a tenant allows, in 4-byte UTF-8, and the JSON around it.
BODY_ENVELOPE_BYTES = 4096


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str  # OpenAPI form, under /api/app/v1: "/t/{tenant_slug}/messages"
    summary: str
    answer: type[BaseModel]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    as_user: bool = True  # needs the user's session token besides the app key


OPERATIONS: list[Operation] = []


def _max_body_bytes() -> int:
    return 4 * current_app.config["MAX_MESSAGE_LENGTH"] + BODY_ENVELOPE_BYTES


def _validated(model: type[BaseModel], parse):
    try:
        return parse(model)
    except ValidationError as exc:
        raise Invalid("invalid_payload", validation_message(exc)) from exc


def _body(model: type[BaseModel]) -> BaseModel:
    request.max_content_length = _max_body_bytes()
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge as exc:
        raise TooLarge("body_too_large", "A request body is at most %(limit)s bytes.", limit=_max_body_bytes()) from exc
    return _validated(model, lambda m: m.model_validate_json(raw or b"{}"))


def _query(model: type[BaseModel]) -> BaseModel:
    return _validated(model, lambda m: m.model_validate(request.args.to_dict()))


def _user(tenant: TenantRef) -> Visitor:
    """The app user the bearer token names: a token of this tenant's, issued to a signed-in user."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    refusal = app_channel.Unauthenticated(
        "bad_token", "Send the token from POST /session as `Authorization: Bearer <token>`.")
    if scheme.lower() != "bearer" or not token.strip():
        raise refusal
    try:
        public_id = visitors.public_id_from(tenant, token.strip())
    except ServiceError as exc:
        raise refusal from exc
    visitor = visitors.by_public_id(tenant_session(), public_id)
    if visitor is None or visitor.external_id is None:
        raise refusal
    return visitor


def operation(**declared):
    """Declare ``view(tenant, *, body=, query=, user=)`` as an endpoint of the app API."""
    spec = Operation(**declared)

    def register(view):
        @functools.wraps(view)
        def endpoint():
            # ``tenants.web`` has entered the tenant of the URL's /t/<tenant_slug>, or answered 404.
            tenant_ref = current_tenant._get_current_object()
            app_channel.authenticate(tenant_session(), request.headers.get(APP_KEY_HEADER))
            arguments = {}
            if spec.as_user:
                arguments["user"] = _user(tenant_ref)
            if spec.body is not None:
                arguments["body"] = _body(spec.body)
            if spec.query is not None:
                arguments["query"] = _query(spec.query)
            return view(tenant_ref, **arguments)

        OPERATIONS.append(spec)
        rule = spec.path.replace("{", "<").replace("}", ">")
        # Token-authenticated, no cookie involved: nothing for a cross-site request to ride on.
        bp.add_url_rule(rule, spec.operation_id, csrf.exempt(json_errors(endpoint)), methods=[spec.method])
        return view

    return register
