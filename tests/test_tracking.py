"""Visitor tracking over real sockets on both backends: page views make visits with their source,
the trail and heartbeats, the live list and the agent's panel, and bad or forged reports."""
import re
from datetime import timedelta

from sqlalchemy import inspect

from saas.models import Visitor, utcnow
from saas.services import identity, routing, tracking, visitors
from tenants import provisioning, tenant_context, tenant_session
from tests.tracking_helpers import GOOGLE_REFERRER, next_matching, public_id, view, visitor_row, visits_of, watch


def test_pages_make_a_visit_with_its_source_trail_and_live_row(server, app, make_tenant, clients):
    tenant = make_tenant()
    agent = clients.agent(server, tenant)
    activity = watch(agent, "visitor:activity")
    visitor = clients.visitor(server, tenant)
    site = "https://shop.example"

    first = view(visitor, f"{site}/boots?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale&size=42",
                 "Boots", GOOGLE_REFERRER)
    view(visitor, f"{site}/boots/scree-mid", "Scree Mid Boots", f"{site}/boots")
    third = view(visitor, f"{site}/basket", "Basket", f"{site}/boots/scree-mid")
    beat = visitor.call("page:heartbeat", {"page_view_id": third["page_view_id"], "seconds_on_page": 3})
    assert beat["ok"] and beat["seconds_on_page"] == 3, beat
    assert first["invitation"] is None

    pushed = next_matching(activity, lambda a: a["page"] and a["page"]["title"] == "Basket")
    assert pushed["visitor"]["visitor_id"] == public_id(app, tenant, visitor.token)

    live = agent.call("visitors:live", {})
    assert live["ok"], live
    (row,) = live["visitors"]
    assert (row["state"], row["page_count"], row["current_page"]["url"]) == ("browsing", 3, f"{site}/basket")
    assert row["source"]["search_engine"] == "google"

    panel = agent.call("visitor:panel", {"visitor_id": row["visitor_id"]})["visitor"]
    assert [p["title"] for p in panel["trail"]] == ["Boots", "Scree Mid Boots", "Basket"]
    assert panel["trail"][-1]["seconds_on_page"] == 3
    source = panel["first_source"]
    # Explicit tagging wins the kind; the referrer still gives the engine and the terms.
    assert (source["source_kind"], source["search_engine"], source["search_terms"], source["utm_campaign"],
            source["utm_source"], source["utm_medium"], source["landing_page"]) == \
        ("campaign", "google", "waterproof hiking boots", "spring-sale", "newsletter", "email", "/boots?size=42")
    assert (panel["visits"], panel["nickname"], panel["conversations"]) == (1, visitor.nickname, [])
    assert panel["current_page"]["title"] == "Basket"



def test_a_visit_ends_after_the_timeout_and_the_next_page_starts_another(app, make_tenant):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitor = visitors.identify(session, tenant.ref, None)
        start = utcnow() - timedelta(hours=2)
        tracking.record_page_view(session, visitor, url="https://shop.example/?utm_campaign=winter", title="Home",
                                  referrer=None, now=start)
        tracking.record_page_view(session, visitor, url="https://shop.example/tents", title="Tents",
                                  referrer="https://shop.example/", now=start + timedelta(minutes=29))
        later = start + timedelta(minutes=29 + 31)
        tracking.record_page_view(session, visitor, url="https://shop.example/boots", title="Boots",
                                  referrer="https://www.bing.com/search?q=boots", now=later)
        panel = tracking.panel(session, visitor)
    assert panel["visits"] == 2
    assert (panel["first_source"]["source_kind"], panel["first_source"]["utm_campaign"]) == ("campaign", "winter")
    assert (panel["latest_source"]["source_kind"], panel["latest_source"]["search_engine"],
            panel["latest_source"]["search_terms"]) == ("search", "bing", "boots")
    assert [p["title"] for p in panel["trail"]] == ["Boots"]  # the trail is the current visit's


def test_a_heartbeat_keeps_a_visit_going_but_does_not_revive_one_that_timed_out(app, make_tenant):
    """A page left open past the timeout (a sleeping laptop) does not reopen its visit: the visit
    rollup may have folded it already, and the next page view starts a new visit."""
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitor = visitors.identify(session, tenant.ref, None)
        start = utcnow() - timedelta(hours=2)
        view = tracking.record_page_view(session, visitor, url="https://shop.example/", title="Home",
                                         referrer=None, now=start)
        tracking.heartbeat(session, visitor, view.id, 60, now=start + timedelta(minutes=20))
        visit = tracking.latest_visit(session, visitor)
        assert visit.last_seen_at == start + timedelta(minutes=20)
        late = start + timedelta(minutes=20) + tracking.visit_timeout() + timedelta(minutes=1)
        tracking.heartbeat(session, visitor, view.id, 90, now=late)
        session.refresh(visit)
        assert visit.last_seen_at == start + timedelta(minutes=20)
        tracking.record_page_view(session, visitor, url="https://shop.example/b", title="B", referrer=None, now=late)
        assert tracking.panel(session, visitor)["visits"] == 2


def test_bad_reports_are_refused_or_cut_and_a_visitor_writes_only_its_own_trail(server, app, make_tenant, clients):
    tenant = make_tenant()
    mine, theirs = clients.visitor(server, tenant), clients.visitor(server, tenant)
    for url in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>",
                "/relative/only", "  ", "file:///etc/passwd"):
        reply = mine.call("page:view", {"url": url, "title": "x"})
        assert reply["ok"] is False and reply["error"]["code"] == "bad_url", (url, reply)
    huge = "https://shop.example/search?q=" + "a" * 200_000  # near the 256 KiB socket packet limit
    title = "<img src=x onerror=alert(1)>\u202e\x00" + "T" * 5000
    stored = view(mine, huge, title, referrer="javascript:alert(2)")
    (visit, pages), = visits_of(app, tenant, visitor_row(app, tenant, public_id(app, tenant, mine.token)).id)
    (page,) = pages
    assert len(page.url) == 2048 and page.url.startswith("https://shop.example/search?q=aaa")
    # Kept as text (the console and panel show it with textContent), cut, without controls or bidi marks.
    assert page.title.startswith("<img src=x onerror=alert(1)>TTT") and 290 < len(page.title) <= 300
    assert page.referrer is None and visit.source_kind == "direct"
    assert mine.call("page:view", {"url": "https://x.example/", "title": 5})["error"]["code"] == "invalid_payload"
    assert mine.call("page:view", {"url": "https://x.example/", "visitor_id": 1})["error"]["code"] == "invalid_payload"

    # Heartbeats: only for one's own page views, and never more time than has passed.
    other = view(theirs, "https://shop.example/", "Theirs")
    refused = mine.call("page:heartbeat", {"page_view_id": other["page_view_id"], "seconds_on_page": 99})
    assert refused["error"]["code"] == "page_view_not_found", refused
    capped = mine.call("page:heartbeat", {"page_view_id": stored["page_view_id"], "seconds_on_page": 10**9})
    assert capped["ok"] and capped["seconds_on_page"] <= 10, capped
    (_, (their_page,)), = visits_of(app, tenant, visitor_row(app, tenant, public_id(app, tenant, theirs.token)).id)
    assert their_page.seconds_on_page == 0


def test_agents_of_another_tenant_see_nothing_of_these_visitors(server, app, make_tenant, clients):
    a, b = make_tenant(), make_tenant()
    visitor = clients.visitor(server, a)
    view(visitor, "https://a.example/", "A's page")
    assert visitor.send("hello from A")["ok"]
    visitor_id = public_id(app, a, visitor.token)
    agent_a, agent_b = clients.agent(server, a), clients.agent(server, b)
    conversation_id = agent_a.conversations()[0]["id"]
    assert [row["visitor_id"] for row in agent_a.call("visitors:live", {})["visitors"]] == [visitor_id]

    assert agent_b.call("visitors:live", {})["visitors"] == []
    for event, payload, code in (
            ("visitor:panel", {"visitor_id": visitor_id}, "visitor_not_found"),
            ("visitor:panel", {"conversation_id": conversation_id}, "conversation_not_found"),
            ("visitor:transcript", {"conversation_id": conversation_id}, "conversation_not_found"),
            ("visitor:contact", {"visitor_id": visitor_id, "name": "Hacked"}, "visitor_not_found"),
            ("visitor:invite", {"visitor_id": visitor_id, "message": "hi"}, "visitor_not_found")):
        reply = agent_b.call(event, payload)
        assert reply["ok"] is False and reply["error"]["code"] == code, (event, reply)
    assert visitor_row(app, a, visitor_id).name is None


def test_agents_edit_contact_details_with_validation(server, app, make_tenant, clients):
    tenant = make_tenant()
    visitor = clients.visitor(server, tenant)
    view(visitor, "https://shop.example/", "Home")
    agent = clients.agent(server, tenant)
    visitor_id = public_id(app, tenant, visitor.token)
    for fields, message in (({"email": "nope"}, "email"), ({"phone": "call me"}, "phone"),
                            ({"name": "n" * 81}, "80")):
        reply = agent.call("visitor:contact", {"visitor_id": visitor_id, **fields})
        assert reply["error"]["code"] == "invalid_contact" and message in reply["error"]["message"], reply
    saved = agent.call("visitor:contact", {"visitor_id": visitor_id, "name": " Grace Hopper ",
                                           "email": "grace@example.com", "phone": "+44 20 7946 0000"})
    assert saved["ok"], saved
    assert (saved["visitor"]["name"], saved["visitor"]["nickname"], saved["visitor"]["email"]) == \
        ("Grace Hopper", "Grace Hopper", "grace@example.com")


IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.4 Mobile/15E148 Safari/604.1")


def test_the_device_language_and_address_are_stored_and_give_the_conversation_its_channel(app, make_tenant):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitor = visitors.identify(session, tenant.ref, None)
        client = tracking.Client(user_agent=IPHONE, ip_address="203.0.113.9", accept_language="de-CH,de;q=0.9")
        tracking.record_page_view(session, visitor, url="https://shop.example/", title="Home", referrer=None,
                                  client=client)
        conversation, _outcome = routing.open_conversation(session, visitor)
        source = tracking.panel(session, visitor)["latest_source"]
        assert conversation.channel == "mobile_web"
    assert (source["device_type"], source["browser"], source["os"], source["language"], source["ip_address"],
            source["channel"]) == ("mobile", "Mobile Safari", "iOS", "de-CH", "203.0.113.9", "mobile_web")


def test_the_tracking_migration_downgrades_and_upgrades_again(app, make_tenant):
    tenant = make_tenant()
    with app.app_context():
        with tenant_context(tenant.ref):
            session = tenant_session()
            visitor = visitors.identify(session, tenant.ref, None)
            tracking.record_page_view(session, visitor, url="https://shop.example/", title="Home", referrer=None)
        provisioning.downgrade_tenant(tenant.ref, "0007")
        router = app.extensions["switchboard_tenants"]
        with router.engine_for(tenant.ref).connect() as connection:
            inspector = inspect(connection)
            schema = router.schema(tenant.ref)
            assert not {"visit_sessions", "page_views", "invitations", "invitation_rules", "visitor_settings"} & \
                set(inspector.get_table_names(schema=schema))
            assert "external_id" not in {c["name"] for c in inspector.get_columns("visitors", schema=schema)}
        provisioning.migrate_tenant(tenant.ref)
        with tenant_context(tenant.ref):
            session = tenant_session()
            assert re.fullmatch(r"[0-9a-f]{64}", identity.settings(session).identity_secret)
            assert identity.settings(session).invitation_period_minutes == 60
            assert tracking.panel(session, session.get(Visitor, visitor.id))["visits"] == 0
