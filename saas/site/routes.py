from flask import abort, render_template

from tenants import registry

from . import bp


@bp.route("/")
def index():
    return render_template("site/index.html")


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}


@bp.route("/demo/<slug>")
def demo_site(slug: str):
    """A stand-in for a tenant's own website, with the one-line widget snippet embedded."""
    tenant = registry.find_by_slug(slug)
    if tenant is None or not tenant.is_active:
        abort(404, description="No such workspace.")
    return render_template("site/demo.html", tenant=tenant)
