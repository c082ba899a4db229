"""HTTP for files in conversations, shared by the widget's and the console's endpoints: reading a
multipart upload, answering in the sockets' acknowledgement shape, and serving a stored file so
that nothing in it can run in a browser."""
import functools
import logging

from flask import jsonify, request, send_file
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import RequestEntityTooLarge

from tenants import TenantRef

from .models import Attachment
from .realtime import broadcast
from .realtime.payloads import message_dict
from .services import attachments
from .services.errors import Invalid, NotFound, ServiceError
from .services.file_types import FILE_TYPES

log = logging.getLogger(__name__)
MULTIPART_OVERHEAD = 64 * 1024  # field names, boundaries, the key and token around the file
FILE_FIELD = "file"


def error(code: str, message: str, status: int):
    return jsonify({"ok": False, "error": {"code": code, "message": message}}), status


def json_errors(view):
    """Refusals and failures as ``{ok: false, error: {code, message}}`` with a fitting status."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except ServiceError as exc:
            return error(exc.code, exc.message, exc.status)
        except DBAPIError:
            log.exception("storage error in %s", view.__name__)
            return error("unavailable", "Storage is unavailable right now; retry shortly.", 503)

    return wrapper


def allow_upload_body() -> None:
    """Lets this request's body be as large as the largest file any tenant accepts; call it
    before anything reads the form."""
    request.max_content_length = attachments.upload_ceiling() + MULTIPART_OVERHEAD


def form_value(name: str) -> str | None:
    try:
        return request.form.get(name)
    except RequestEntityTooLarge as exc:
        raise attachments.TooLarge("file_too_large", "The file is larger than this chat accepts.") from exc


def uploaded_file() -> tuple[str, bytes]:
    """The sender's file name and the bytes of the multipart ``file`` field."""
    try:
        upload = request.files.get(FILE_FIELD)
    except RequestEntityTooLarge as exc:
        raise attachments.TooLarge("file_too_large", "The file is larger than this chat accepts.") from exc
    if upload is None:
        raise Invalid("no_file", "Choose a file to send.")
    return upload.filename or "", upload.stream.read()


def posted_response(tenant: TenantRef, session, posted, outcome):
    broadcast.outcome(tenant, session, outcome)
    return jsonify({"ok": True, "message": message_dict(posted.message), "duplicate": not posted.is_new})


def send_attachment(tenant: TenantRef, attachment: Attachment, *, cross_origin: bool):
    """Images inline with their sniffed type; everything else only ever as a download."""
    path = attachments.path_of(tenant, attachment)
    if not path.is_file():
        raise NotFound("file_not_found", "No such file.")
    inline = FILE_TYPES[attachment.file_type].is_image
    response = send_file(path, mimetype=attachment.content_type, as_attachment=not inline,
                         download_name=attachment.name, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Opened on its own, the file is a sandboxed document that may load nothing and run nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-cache"
    # The widget shows visitors' images on the tenant's own site; console files stay on ours.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin" if cross_origin else "same-origin"
    return response
