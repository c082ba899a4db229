from flask import abort, render_template

from tenants import registry

from . import bp


@bp.route("/")
def index():
    return render_template("site/index.html")


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}


# The demo shop's other pages, so a visitor has somewhere to browse (and a trail to leave).
DEMO_PAGES = {"tents": "Tents", "packs": "Packs", "boots": "Boots"}


@bp.route("/demo/<slug>")
@bp.route("/demo/<slug>/<page>")
def demo_site(slug: str, page: str | None = None):
    """A stand-in for a tenant's own website, with the one-line widget snippet embedded."""
    tenant = registry.find_by_slug(slug)
    if tenant is None or not tenant.is_active:
        abort(404, description="No such workspace.")
    if page is not None and page not in DEMO_PAGES:
        abort(404, description="No such page.")
    return render_template("site/demo.html", tenant=tenant, page_title=DEMO_PAGES.get(page), pages=DEMO_PAGES)
