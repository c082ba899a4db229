"""Audit records made from a web request: the actor is the logged-in account, the address the
client's (behind ``SWITCHBOARD_TRUSTED_PROXIES``, the forwarded one).

Admin changes are recorded twice over, so a new screen cannot forget: Flask-Admin model views
through ``AdminsOnly``'s hooks (``record_model_change``/``record_model_delete``: which fields
changed, old → new), and any other successful admin POST through ``record_unhooked`` (which
fields were posted, no values: settings forms may carry secrets), which also records the reports'
file downloads as exports."""
from flask import current_app, g, request, session
from flask_login import current_user

from tenants import has_tenant, tenant_session

from ..services import audit

_SECRET_WORDS = ("secret", "token", "password", "key", "hash")
_VALUE_MAX = 80


def record_request(kind: str, *, target: str = "", detail: str = "", actor=None, actor_label: str = "",
                   commit: bool = True) -> None:
    db_session = tenant_session()
    if actor is None and current_user.is_authenticated:
        actor = current_user
    audit.record(db_session, kind, actor=actor, actor_label=actor_label, address=request.remote_addr,
                 target=target, detail=detail)
    if commit:
        db_session.commit()
    mark_audited()


def mark_audited() -> None:
    """For views whose service recorded the action itself (in the action's own transaction)."""
    g.switchboard_audited = True


def _shown(name: str, value) -> str:
    if any(word in name.lower() for word in _SECRET_WORDS):
        return "(hidden)"
    text = str(value)
    return text if len(text) <= _VALUE_MAX else text[:_VALUE_MAX] + "…"


def _target(model) -> str:
    return f"{model.__tablename__} {getattr(model, 'id', '')}".strip()


def record_model_change(form, model, is_created: bool) -> None:
    changed = {field.name: (field.object_data, field.data) for field in form
               if field.name != "csrf_token" and (is_created or field.object_data != field.data)}
    kinds = []
    if not is_created and model.__tablename__ == "users":
        if "role" in changed:
            kinds.append(audit.ROLE_CHANGED)
        if "is_enabled" in changed:
            kinds.append(audit.USER_ENABLED if model.is_enabled else audit.USER_DISABLED)
    if not kinds and not changed:
        return
    detail = "; ".join(f"{name}: {_shown(name, old)} → {_shown(name, new)}" if not is_created
                       else f"{name}: {_shown(name, new)}" for name, (old, new) in changed.items())
    for kind in kinds or [audit.SETTINGS_CHANGED]:
        record_request(kind, target=_target(model), detail=("created; " if is_created else "") + detail,
                       commit=False)
    tenant_session().commit()


def record_model_delete(model) -> None:
    record_request(audit.RECORD_DELETED, target=_target(model))


# A model view's write endpoints and the permission each needs: Flask-Admin answers a refused one
# with a plain redirect, which must not read as a change.
_MODEL_WRITES = {"create_view": ("can_create",), "edit_view": ("can_edit",), "ajax_update": ("can_edit",),
                 "delete_view": ("can_delete",), "action_view": ("can_create", "can_edit", "can_delete")}


def _is_admin_change_endpoint() -> bool:
    blueprint = request.blueprint or ""
    if blueprint == "admin":
        return True
    view = next((view for admin in current_app.extensions.get("admin", []) for view in admin._views
                 if view.endpoint == blueprint), None)
    if view is None:
        return False
    needs = _MODEL_WRITES.get((request.endpoint or "").rpartition(".")[2])
    return needs is None or any(getattr(view, flag, False) for flag in needs)


def record_unhooked(response):
    """After each request, for what no view recorded itself: a successful (redirected, no error
    flashed) admin POST is a settings change; a file sent as an attachment by the reports is an
    export downloaded."""
    if not has_tenant() or g.get("switchboard_audited") or not current_user.is_authenticated:
        return response
    if (request.method == "POST" and 300 <= response.status_code < 400 and _is_admin_change_endpoint()
            and not any(category == "error" for category, _message in session.get("_flashes", []))):
        posted = sorted({name for name in request.form if name != "csrf_token"})
        record_request(audit.SETTINGS_CHANGED, target=request.endpoint or "", detail="fields: " + ", ".join(posted))
    elif (request.blueprint == "reports" and response.status_code == 200
          and "attachment" in response.headers.get("Content-Disposition", "")):
        record_request(audit.EXPORT_DOWNLOADED, target=request.full_path[:200])
    return response
