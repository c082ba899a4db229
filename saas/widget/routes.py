from flask import current_app, send_from_directory

from . import bp


@bp.route("/widget.js")
def script():
    response = send_from_directory(current_app.static_folder, "widget.js", mimetype="text/javascript", max_age=300)
    # Embedded on the tenants' own origins.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
