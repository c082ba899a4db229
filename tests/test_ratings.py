"""Satisfaction ratings over real sockets: after close, after an invitation, updating instead of
duplicating, the admin's scale and tags, and every refusal storing nothing."""
from sqlalchemy import select

from saas.models import ConversationRating
from tenants import tenant_context, tenant_session
from tests.clients import login, manage_url, submit_form
from tests.engagement_helpers import Heard, chatting


def _ratings(app, tenant):
    with app.app_context(), tenant_context(tenant.ref):
        return [(r.conversation_id, r.agent_id, r.scale, r.score, r.level, r.tags, r.comment)
                for r in tenant_session().scalars(select(ConversationRating))]


def _rate(visitor, conversation_id, score=4, tags=("Quick response", "Helpful"), comment="Thanks!"):
    return visitor.call("rating:submit", {"conversation_id": conversation_id, "score": score, "tags": list(tags),
                                          "comment": comment})


def test_rating_after_close_reaches_agents_and_rating_again_updates_it(server, app, make_tenant, clients):
    tenant = make_tenant()
    agent, visitor, conversation_id = chatting(server, tenant, clients)
    saved = Heard(agent, "rating:saved")
    form = visitor.call("rating:form", {})
    assert form["enabled"] and form["may_rate"] is False and form["scale"] == "stars5"
    assert [level["score"] for level in form["levels"]] == [1, 2, 3, 4, 5]
    assert form["levels"][3]["tags"] == ["Quick response", "Helpful"]

    assert agent.call("conversation:close", {"conversation_id": conversation_id})["ok"]
    assert visitor.call("rating:form", {})["may_rate"] is True
    rated = _rate(visitor, conversation_id)
    assert rated["ok"], rated
    pushed = saved.next()
    assert pushed["conversation_id"] == conversation_id
    assert (pushed["rating"]["score"], pushed["rating"]["level"], pushed["rating"]["tags"],
            pushed["rating"]["comment"]) == (4, "4 stars", ["Quick response", "Helpful"], "Thanks!")

    assert _rate(visitor, conversation_id, score=2, tags=["Slow response"], comment="")["ok"]
    assert saved.next()["rating"]["score"] == 2
    assert _ratings(app, tenant) == [(conversation_id, tenant.agents[0].id, "stars5", 2, "2 stars",
                                      ["Slow response"], "")]
    got = agent.call("rating:get", {"conversation_id": conversation_id})
    assert got["rating"]["score"] == 2
    assert visitor.call("rating:form", {})["rating"]["score"] == 2  # a reload shows the rating given


def test_invitation_allows_rating_an_open_conversation(server, app, make_tenant, clients):
    tenant = make_tenant()
    agent, visitor, conversation_id = chatting(server, tenant, clients)
    prompts = Heard(visitor, "rating:prompt")
    refused = _rate(visitor, conversation_id)
    assert refused["error"]["code"] == "conversation_open"
    assert _ratings(app, tenant) == []

    invited = agent.call("rating:invite", {"conversation_id": conversation_id})
    assert invited["ok"], invited
    assert prompts.next() == {"conversation_id": conversation_id}
    assert agent.call("rating:get", {"conversation_id": conversation_id})["invited"] is True
    assert _rate(visitor, conversation_id)["ok"]
    assert [r[3] for r in _ratings(app, tenant)] == [4]


def test_refusals_store_nothing(server, app, make_tenant, clients):
    tenant, other = make_tenant(agents=2), make_tenant()
    agent, visitor, conversation_id = chatting(server, tenant, clients)
    someone_else = clients.visitor(server, tenant)
    assert someone_else.send("me too")["ok"]
    assert agent.call("conversation:close", {"conversation_id": conversation_id})["ok"]

    assert _rate(someone_else, conversation_id)["error"]["code"] == "not_your_conversation"
    for bad, code in (({"score": 0}, "invalid_score"), ({"score": 6}, "invalid_score"),
                      ({"tags": ["Friendly"]}, "invalid_tags"),  # a tag of level 5, not 4
                      ({"tags": ["Made up"]}, "invalid_tags"), ({"comment": "c" * 1001}, "invalid_comment")):
        assert _rate(visitor, conversation_id, **bad)["error"]["code"] == code, bad
    assert visitor.call("rating:submit", {"conversation_id": conversation_id, "score": "4"})["error"]["code"] \
        == "invalid_payload"
    assert visitor.call("rating:submit", {"conversation_id": 999999, "score": 4})["error"]["code"] \
        == "conversation_not_found"
    # Another tenant's visitor cannot reach it, and its agent cannot invite.
    stranger = clients.visitor(server, other)
    assert not _rate(stranger, conversation_id)["ok"]
    assert not clients.agent(server, other).call("rating:invite", {"conversation_id": conversation_id})["ok"]
    # A colleague cannot invite on a conversation assigned to someone else.
    colleague = clients.agent(server, tenant, tenant.agents[1])
    open_one = someone_else.history()["conversation"]["id"]
    holder = agent.open(open_one)["conversation"]["assigned_agent_id"]
    inviter = colleague if holder == tenant.agents[0].id else agent
    assert inviter.call("rating:invite", {"conversation_id": open_one})["error"]["code"] == "not_your_conversation"
    assert _ratings(app, tenant) == []


def test_admin_sets_scale_and_tags_and_switches_ratings_off(server, app, make_tenant, clients):
    tenant = make_tenant()
    http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    url = manage_url(server, tenant, "ratings/")
    saved = submit_form(http, url, enabled=True, scale="levels3", tags_levels3_1="Rude, Slow, Rude",
                        tags_levels3_2="", tags_levels3_3="Fast,  Kind")
    assert saved.status_code == 200 and "Rating settings saved." in saved.text
    assert submit_form(http, url, enabled=True, scale="stars10").status_code == 400
    assert submit_form(http, url, enabled=True, scale="levels3", tags_levels3_1="x" * 41).status_code == 400

    agent, visitor, conversation_id = chatting(server, tenant, clients)
    form = visitor.call("rating:form", {})
    assert form["scale"] == "levels3"
    assert [(lv["score"], lv["label"], lv["tags"]) for lv in form["levels"]] == [
        (1, "unsatisfied", ["Rude", "Slow"]), (2, "neutral", []), (3, "satisfied", ["Fast", "Kind"])]
    agent.call("conversation:close", {"conversation_id": conversation_id})
    assert _rate(visitor, conversation_id, score=4, tags=[])["error"]["code"] == "invalid_score"
    assert _rate(visitor, conversation_id, score=3, tags=["Kind"], comment="")["ok"]
    assert [r[2:6] for r in _ratings(app, tenant)] == [("levels3", 3, "satisfied", ["Kind"])]

    assert submit_form(http, url, enabled=False, scale="levels3").status_code == 200
    assert visitor.call("rating:form", {})["may_rate"] is False
    assert _rate(visitor, conversation_id, score=1, tags=[])["error"]["code"] == "ratings_off"
    agent_http = login(server.url, tenant.slug, tenant.agents[0].email, tenant.agents[0].password)
    assert agent_http.get(url, allow_redirects=False).status_code == 403
