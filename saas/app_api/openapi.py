"""The OpenAPI 3.1 document of the app API, generated from the declared operations and their
pydantic models, and the catalogue of the /visitor Socket.IO events an app uses."""
import functools

from pydantic.json_schema import models_json_schema

from ..realtime.engagement import Seen, VisitorTyping
from ..realtime.payloads import Empty, HistoryRequest, VisitorSend
from . import schemas
from .operations import APP_KEY_HEADER, OPERATIONS

API_VERSION = "1.0.0"
ERRORS = {
    "400": "Bad input: invalid JSON, a missing or unknown field, a wrong type or size. Nothing was stored.",
    "401": "No valid app key for this workspace, or no valid user token.",
    "404": "No such workspace.",
    "413": "The request body is too large.",
    "429": "The user is sending too fast.",
    "503": "Storage is unavailable right now; retry with the same client_id.",
}
SECURITY_SCHEMES = {
    "appKey": {"type": "apiKey", "in": "header", "name": APP_KEY_HEADER,
               "description": "An app key made in Admin → App channel."},
    "userToken": {"type": "http", "scheme": "bearer",
                  "description": "The `token` returned by startSession."},
}


def _content(ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": ref}}}


def _query_parameters(schema: dict) -> list[dict]:
    required = set(schema.get("required", ()))
    return [{"name": name, "in": "query", "required": name in required, "schema": property_schema}
            for name, property_schema in schema["properties"].items()]


@functools.cache
def document() -> dict:
    models = {schemas.ErrorAnswer}
    for spec in OPERATIONS:
        models |= {m for m in (spec.answer, spec.body, spec.query) if m is not None}
    refs, definitions = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                           ref_template="#/components/schemas/{model}")
    components = definitions.get("$defs", {})
    paths: dict = {}
    for spec in OPERATIONS:
        item = {
            "operationId": spec.operation_id,
            "summary": spec.summary,
            "parameters": [{"name": "tenant_slug", "in": "path", "required": True, "schema": {"type": "string"},
                            "description": "The workspace's slug (its address: /t/<slug>/…)."}],
            "security": [{"appKey": [], "userToken": []} if spec.as_user else {"appKey": []}],
            "responses": {
                "200": {"description": "OK", "content": _content(refs[(spec.answer, "validation")]["$ref"])},
                **{status: {"description": text, "content": _content(refs[(schemas.ErrorAnswer, "validation")]["$ref"])}
                   for status, text in ERRORS.items()},
            },
        }
        if spec.query is not None:
            item["parameters"] += _query_parameters(components[spec.query.__name__])
        if spec.body is not None:
            item["requestBody"] = {"required": True, "content": _content(refs[(spec.body, "validation")]["$ref"])}
        paths.setdefault(spec.path, {})[spec.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "Switchboard app API", "version": API_VERSION,
                 "description": "For a tenant's mobile apps: sessions of signed-in users, their messages and read "
                                "position. Live messages come over Socket.IO: see events.json."},
        "servers": [{"url": "/api/app/v1"}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES},
    }


# (direction, event, payload model or None, what comes back or with it)
_EVENTS = (
    ("server→app", "session", None, "{token, nickname, state, availability, …} right after connecting"),
    ("app→server", "history", HistoryRequest, "ack {conversation, messages, state}: what listMessages answers"),
    ("app→server", "message:send", VisitorSend, "ack {message, duplicate}: as sendMessage"),
    ("app→server", "conversation:seen", Seen, "ack {conversation_id, visitor_read_seq, agents_read_seq}: as markRead"),
    ("app→server", "typing", VisitorTyping, "ack {}; agents see the draft live (\"\" = stopped)"),
    ("app→server", "human:request", Empty, "ack {state}: hand over from the bot to a person"),
    ("server→app", "message:new", None, "a message, as in listMessages (agents', the bot's, the user's own)"),
    ("server→app", "conversation:state", None, "{handler, agent_name, position, estimated_wait_seconds, status}"),
    ("server→app", "typing", None, "{typing, name}: an agent is typing (no text)"),
    ("server→app", "receipt:agents", None, "{conversation_id, read_seq}: agents have read up to read_seq"),
    ("server→app", "server:shutdown", None, "{reconnect: true}: reconnect; resend unacknowledged messages"),
)


@functools.cache
def event_catalogue() -> dict:
    return {
        "namespace": "/visitor",
        "auth": "{key, token}: the `socket.auth` of startSession's answer",
        "acknowledgements": "{ok: true, …} or {ok: false, error: {code, message}}",
        "events": [{"direction": direction, "event": event, "answer": answer,
                    "payload": model.model_json_schema() if model is not None else None}
                   for direction, event, model, answer in _EVENTS],
    }
