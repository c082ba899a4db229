"""The widget's look per tenant: the contrast rule, the admin screen (saving, refusing bad input, the
live-preview check, the QR code), what the widget receives in its ``session`` payload, the logo, the
standalone chat page, and hiding outside business hours."""
import re

import pytest
import requests

from saas.models import BusinessHours, WidgetLook
from saas.services import widget_look
from saas.services.errors import Invalid
from tenants import tenant_context, tenant_session
from tests.clients import csrf_token, login, manage_url
from tests.sample_files import HTML, SVG, pdf, png

DEFAULT_LOOK = {"color": "#2563eb", "position": "right", "launcher_text": "Chat",
                "greeting": "Ask us anything — we reply right here.", "hide_outside_hours": False}


# --- the contrast rule (WCAG 2.1: relative luminance, 4.5:1 for normal text) ---

def test_contrast_ratio_is_the_wcag_formula():
    assert widget_look.contrast_ratio("#ffffff", "#000000") == pytest.approx(21)
    assert widget_look.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert widget_look.contrast_ratio("#2563eb", "#ffffff") == widget_look.contrast_ratio("#ffffff", "#2563eb")


@pytest.mark.parametrize("color, text_color, ratio, warns", [
    ("#2563eb", "#ffffff", 5.16, False),  # the default theme passes AA
    ("#ffff00", "#111827", 16.51, False),  # a light colour gets dark text
    ("#ABC", "#111827", 9.02, False),  # short form and upper case are read as #aabbcc
    ("#777777", "#ffffff", 4.47, True),  # just below 4.5 with the better of the two texts
    ("#ff0000", "#111827", 4.43, True),  # dark text beats white here, but not by enough
])
def test_text_colour_is_chosen_and_a_failing_colour_warned(color, text_color, ratio, warns):
    chosen = widget_look.contrast(color)
    assert (chosen.text_color, chosen.ratio) == (text_color, ratio)
    assert (chosen.warning is not None) == warns
    if warns:
        assert f"{ratio}:1" in chosen.warning and "4.5:1" in chosen.warning


@pytest.mark.parametrize("value", ["red", "#12345", "#ggg", "", "  ", None, 123, "#1234567", "rgb(0, 0, 0)",
                                   "#fff; } .panel { display: none", "url(x)"])
def test_what_is_not_a_colour_is_refused(value):
    with pytest.raises(Invalid) as refused:
        widget_look.clean_color(value)
    assert refused.value.code == "invalid_color"


# --- the admin screen, over HTTP against the live server ---

def _post_look(http, url, files=None, **fields):
    page = http.get(url)
    assert page.status_code == 200, page.status_code
    data = {"csrf_token": csrf_token(page.text), **DEFAULT_LOOK, **fields}
    data = {name: ("y" if value is True else value) for name, value in data.items() if value is not False}
    return http.post(url, data=data, files=files or {}, allow_redirects=False)


def _stored(app, tenant) -> dict | None:
    with app.app_context(), tenant_context(tenant.ref):
        row = tenant_session().get(WidgetLook, 1)
        if row is None:
            return None
        return {"color": row.color, "position": row.position, "launcher_text": row.launcher_text,
                "greeting": row.greeting, "hide_outside_hours": row.hide_outside_hours, "logo": row.logo,
                "logo_type": row.logo_type, "version": row.version}


def test_admin_sets_the_look_the_widget_gets_it_and_the_chat_page_is_shared_by_qr(server, app, make_tenant, clients):
    tenant = make_tenant(admins=1)
    assert clients.visitor(server, tenant).welcome["look"] == {
        "version": 0, "color": "#2563eb", "text_color": "#ffffff", "position": "right", "launcher_text": "Chat",
        "greeting": DEFAULT_LOOK["greeting"], "has_logo": False, "hidden": False}

    http = login(server.url, tenant.slug, tenant.admins[0].email, tenant.owner.password)
    url = manage_url(server, tenant, "widget_look/")
    logo = png(40, 40)
    saved = _post_look(http, url, files={"logo": ("me.png", logo, "image/png")}, color="#FFD700",
                       position="left", launcher_text="  Help  me ", greeting="Hi! We answer within minutes.",
                       hide_outside_hours=True)
    assert saved.status_code == 302, saved.text[:500]
    stored = _stored(app, tenant)
    assert stored == {"color": "#ffd700", "position": "left", "launcher_text": "Help me",
                      "greeting": "Hi! We answer within minutes.", "hide_outside_hours": True, "logo": logo,
                      "logo_type": "png", "version": 1}

    look = clients.visitor(server, tenant).welcome["look"]
    assert look == {"version": 1, "color": "#ffd700", "text_color": "#111827", "position": "left",
                    "launcher_text": "Help me", "greeting": "Hi! We answer within minutes.",
                    "has_logo": True, "hidden": False}  # no business hours set: always open

    served = requests.get(f"{server.url}/widget/look/logo", params={"key": tenant.widget_key, "v": 1})
    assert served.status_code == 200 and served.content == logo
    assert served.headers["Content-Type"] == "image/png"
    assert "max-age=31536000" in served.headers["Cache-Control"]
    stale = requests.get(f"{server.url}/widget/look/logo", params={"key": tenant.widget_key, "v": 0})
    assert "max-age=0" in stale.headers["Cache-Control"]  # an old version's URL is never cached long

    page = http.get(url).text
    assert 'value="#ffd700"' in page and "meets WCAG 2.1 AA" in page
    assert f"/chat/{tenant.widget_key}" in page and 'id="chat-page-qr"' in page

    # Saving again without a file keeps the logo; the box removes it.
    assert _post_look(http, url, color="#ffd700").status_code == 302
    assert _stored(app, tenant)["logo"] == logo
    assert _post_look(http, url, remove_logo=True).status_code == 302
    assert (_stored(app, tenant)["logo"], _stored(app, tenant)["version"]) == (None, 3)
    assert requests.get(f"{server.url}/widget/look/logo", params={"key": tenant.widget_key}).status_code == 404

    # A colour whose text cannot reach AA is saved, with a warning; the preview asks the same rule.
    assert _post_look(http, url, color="#777777").status_code == 302
    shown = http.get(url).text  # with the flashed messages
    assert "reaches only 4.47:1" in shown and "WCAG 2.1 AA asks for 4.5:1" in shown
    assert _stored(app, tenant)["color"] == "#777777"
    check = manage_url(server, tenant, "widget_look/contrast")
    answer = http.get(check, params={"color": "#ff0"}).json()
    assert answer == {"ok": True, "color": "#ffff00", "text_color": "#111827", "ratio": 16.51, "warning": None}
    refused = http.get(check, params={"color": "javascript:alert(1)"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_color"

    # The standalone chat page and its QR code.
    qr = http.get(manage_url(server, tenant, "widget_look/qr.svg"))
    assert qr.status_code == 200 and qr.headers["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in qr.content and b"<script" not in qr.content
    download = http.get(manage_url(server, tenant, "widget_look/qr.svg"), params={"download": 1})
    assert "attachment" in download.headers["Content-Disposition"]
    page = requests.get(f"{server.url}/chat/{tenant.widget_key}")
    assert page.status_code == 200
    script = re.search(r'<script src="([^"]+)" data-key="([^"]+)" data-mode="page" async>', page.text)
    assert script and script.group(1).endswith("/widget.js") and script.group(2) == tenant.widget_key
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]  # no inline script on it
    assert requests.get(f"{server.url}/chat/no-such-widget-key").status_code == 404


BAD_INPUT = [
    ({"color": "blue"}, None, "is not a colour"),
    ({"color": "#12345g"}, None, "is not a colour"),
    ({"position": "top"}, None, "on the right or on the left"),
    ({"launcher_text": "x" * 25}, None, "at most 24 characters"),
    ({"greeting": "   "}, None, "cannot be empty"),
    ({}, {"logo": ("big.png", png(400, 400) + b"\0" * (widget_look.MAX_LOGO_BYTES + 1), "image/png")},
     "larger than 200 KB"),
    ({}, {"logo": ("logo.png", pdf(), "image/png")}, "must be a PNG, JPEG, GIF or WebP"),
    ({}, {"logo": ("logo.svg", SVG, "image/svg+xml")}, "must be a PNG, JPEG, GIF or WebP"),
    ({}, {"logo": ("logo.png", HTML, "image/png")}, "must be a PNG, JPEG, GIF or WebP"),
]


def test_bad_input_and_agents_are_refused_clearly_and_nothing_is_saved(server, app, make_tenant):
    tenant = make_tenant(agents=1)
    http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    url = manage_url(server, tenant, "widget_look/")
    assert _post_look(http, url, color="#0000ff").status_code == 302
    before = _stored(app, tenant)
    for fields, files, message in BAD_INPUT:
        refused = _post_look(http, url, files=files, **{"color": "#ff00ff", "launcher_text": "Changed", **fields})
        assert (refused.status_code, message in refused.text) == (400, True), (fields, files and files["logo"][0])
        assert _stored(app, tenant) == before

    agent = login(server.url, tenant.slug, tenant.agents[0].email, tenant.agents[0].password)
    for path in ("widget_look/", "widget_look/contrast?color=%23000000", "widget_look/qr.svg"):
        assert agent.get(manage_url(server, tenant, path), allow_redirects=False).status_code == 403
    assert agent.post(url, data=DEFAULT_LOOK, allow_redirects=False).status_code in (400, 403)
    assert _stored(app, tenant) == before




# --- hiding outside business hours, on the service ---

def test_the_widget_hides_outside_business_hours_only_when_asked(app, make_tenant):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        widget_look.update(session, **DEFAULT_LOOK)
        assert widget_look.for_widget(session)["hidden"] is False  # no hours: always open
        hours = BusinessHours(time_zone="UTC", schedule={}, holidays=[])  # closed every day
        session.add(hours)
        session.flush()
        assert widget_look.for_widget(session)["hidden"] is False  # closed, but not asked to hide
        widget_look.update(session, **{**DEFAULT_LOOK, "hide_outside_hours": True})
        assert widget_look.for_widget(session)["hidden"] is True
        hours.schedule = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        session.flush()
        assert widget_look.for_widget(session)["hidden"] is False
        session.rollback()
