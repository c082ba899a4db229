from flask import render_template, url_for

from tenants import current_tenant, tenant_session

from ..auth.sessions import role_required
from ..models import ADMIN_ROLES
from ..services import accounts, identity
from . import bp


@bp.route("/")
@role_required(*ADMIN_ROLES)
def settings():
    session = tenant_session()
    widget_src = url_for("widget.script", _external=True)
    snippet = f'<script src="{widget_src}" data-key="{current_tenant.widget_key}" async></script>'
    return render_template(
        "admin/settings.html", snippet=snippet, team=accounts.team(session), invites=accounts.open_invites(session),
        demo_url=url_for("site.demo_site", slug=current_tenant.slug, _external=True),
        visitor_settings=identity.settings(session),
    )
