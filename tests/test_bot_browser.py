"""The knowledge-base bot in a real browser: rich answers rebuilt from an allow-list, ratings,
quick replies, "Did you mean…" suggestions and the hand-over offer after a fallback. Playwright
driving Debian's chromium against the live server, on both backends."""
import re

import pytest
from sqlalchemy import select

from saas.models import BotTurn, KnowledgeEntry, ReceptionSettings
from saas.services import bot, knowledge_base
from saas.services.knowledge import Entry, KnowledgeMatcher
from tenants import tenant_context, tenant_session
from tests.conftest import browser_log_in as _log_in

pytestmark = pytest.mark.browser

DELIVERY = "How long does delivery take?"
SHOES = "How do I return shoes?"
BOOTS = "How do I return boots?"
PAYMENT = "Which payment methods do you accept?"
ENTRIES = [  # (question, phrasings, answer HTML as an admin typed it)
    (DELIVERY, ["When will my order arrive?"],
     '<p>Delivery takes <b>3-5 days</b>. See <a href="https://example.test/shipping">shipping</a>.</p>'
     '<img src="x" onerror="document.title=\'pwned\'">'),
    (SHOES, [], "<p>Shoes go back within <b>30 days</b>.</p>"),
    (BOOTS, [], "<p>Boots go back within <b>60 days</b>.</p>"),
    (PAYMENT, [], "<p>Cards and <em>PayPal</em>.</p>"),
]
AMBIGUOUS = "return shoes or boots"  # matches the two return entries about equally: suggest both
OUT_OF_SCOPE = "What is the capital of France?"


def _set_up_bot(app, tenant, entries=ENTRIES) -> dict[str, int]:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.get(ReceptionSettings, 1).reception_mode = "bot_first"
        session.commit()
        ids = {}
        for question, phrasings, answer in entries:
            entry = knowledge_base.create_entry(session, question=question, phrasings=phrasings, answer=answer,
                                                category="")
            ids[question] = entry.id
        return ids


def _decide(app, tenant, query: str):
    """What the bot's matcher decides for ``query``, built afresh like the server builds it."""
    with app.app_context(), tenant_context(tenant.ref):
        rows = tenant_session().scalars(select(KnowledgeEntry)).all()
        entries = [Entry(id=str(r.id), question=r.question, phrasings=tuple(r.phrasings), answer=r.answer,
                         enabled=r.enabled, category=r.category) for r in rows]
        return KnowledgeMatcher(entries, semantic=app.config["BOT_SEMANTIC"]).decide(query)


def _rating(app, tenant, entry_id) -> list:
    with app.app_context(), tenant_context(tenant.ref):
        turns = tenant_session().scalars(select(BotTurn).where(BotTurn.entry_id == entry_id)).all()
        return [(t.outcome, t.rating) for t in turns]


def test_bot_rich_answers_rating_quick_replies_suggestions_and_hand_over(
        server, app, make_tenant, page_for):
    from playwright.sync_api import expect

    tenant = make_tenant(agents=1)
    ids = _set_up_bot(app, tenant)
    # The premises of (3) and (4), checked with the server's matcher settings (lexical in tests; the
    # ambiguous question also gives "suggest" with the semantic re-rank).
    ambiguous = _decide(app, tenant, AMBIGUOUS)
    assert ambiguous.kind == "suggest", ambiguous
    assert {e.question for e in ambiguous.suggestions} == {SHOES, BOOTS}, ambiguous
    assert _decide(app, tenant, OUT_OF_SCOPE).kind == "fallback"

    visitor = page_for()
    page_errors = []
    visitor.on("pageerror", lambda error: page_errors.append(str(error)))
    visitor.goto(f"{server.url}/demo/{tenant.slug}")
    visitor.click("[data-sb=launcher]")
    bot_messages = visitor.locator("[data-sb=message].from-bot")

    # (1) An exact question: the answer is rich, rebuilt from the allow-list, and can be rated.
    visitor.fill("[data-sb=input]", DELIVERY)
    visitor.press("[data-sb=input]", "Enter")
    answers = visitor.locator("[data-sb=answer]")
    expect(answers).to_have_count(1)
    answer = answers.first
    expect(answer).to_contain_text("Delivery takes 3-5 days. See shipping.")
    expect(answer.locator("b")).to_have_text("3-5 days")
    link = answer.locator("a")
    expect(link).to_have_text("shipping")
    expect(link).to_have_attribute("href", "https://example.test/shipping")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", re.compile(r"(^|\s)noopener(\s|$)"))
    expect(answer.locator("img")).to_have_count(0)  # src="x" is not an http(s) URL: nothing to show
    expect(visitor.locator("[onerror]")).to_have_count(0)  # (CSS locators pierce the open shadow root)
    assert visitor.evaluate("document.title") != "pwned"

    answered = bot_messages.filter(has_text="Delivery takes")
    helpful = answered.locator("[data-sb=rate-helpful]")
    not_helpful = answered.locator("[data-sb=rate-not-helpful]")
    expect(helpful).to_have_attribute("aria-label", "Helpful")
    expect(not_helpful).to_have_attribute("aria-label", "Not helpful")
    helpful.click()
    expect(answered).to_contain_text("Thanks for your feedback")
    expect(helpful).to_be_disabled()
    expect(not_helpful).to_be_disabled()
    assert _rating(app, tenant, ids[DELIVERY]) == [("answered", "helpful")]

    # (2) The greeting offers the top questions (newest first while nothing has been answered).
    greeting = bot_messages.first
    expect(greeting).to_contain_text(bot.GREETING)
    greeting_choices = greeting.locator("[data-sb=choice]")
    expect(greeting_choices).to_have_text([PAYMENT, BOOTS, SHOES, DELIVERY])
    greeting_choices.filter(has_text=SHOES).click()
    expect(visitor.locator("[data-sb=message].from-visitor").last).to_have_text(SHOES)
    expect(answers).to_have_count(2)
    expect(answers.last).to_have_text("Shoes go back within 30 days.")
    expect(answers.last.locator("b")).to_have_text("30 days")

    # (3) An ambiguous question: "Did you mean…" with both entries; the older offer is retired.
    visitor.fill("[data-sb=input]", AMBIGUOUS)
    visitor.press("[data-sb=input]", "Enter")
    did_you_mean = bot_messages.filter(has_text=bot.DID_YOU_MEAN)
    expect(did_you_mean).to_have_count(1)
    suggestions = did_you_mean.locator("[data-sb=choice]")
    expect(suggestions).to_have_count(2)
    assert sorted(suggestions.all_inner_texts()) == sorted([SHOES, BOOTS])
    for index in range(4):
        expect(greeting_choices.nth(index)).to_be_disabled()
    suggestions.filter(has_text=BOOTS).click()
    expect(answers).to_have_count(3)
    expect(answers.last).to_have_text("Boots go back within 60 days.")

    # (4) Out of scope: the fallback offers a person; with an agent online, the visitor gets them.
    agent = page_for()
    _log_in(agent, server, tenant, tenant.agents[0])
    expect(agent.locator("#presence")).to_have_value("online")
    visitor.fill("[data-sb=input]", OUT_OF_SCOPE)
    visitor.press("[data-sb=input]", "Enter")
    fallback = bot_messages.filter(has_text=bot.FALLBACK_TEXT)
    expect(fallback).to_have_count(1)
    talk = fallback.locator("[data-sb=choice]")
    expect(talk).to_have_text(["Talk to a human"])
    expect(talk).to_be_enabled()
    expect(suggestions.first).to_be_disabled()
    talk.click()
    status = visitor.locator("[data-sb=status]")
    expect(status).to_have_text("You are chatting with Agent 0")
    expect(talk).to_be_disabled()  # a person holds the conversation now: the bot's offers are moot

    # The agent sees the transcript, with the plain answers and what the bot suggested.
    mine = agent.locator("#mine-list li")
    expect(mine).to_have_count(1)
    mine.locator(".conversation-item").click()
    messages = agent.locator("#messages")
    expect(messages).to_contain_text("Delivery takes 3-5 days")
    expect(messages.locator(".suggested")).to_have_count(1)
    expect(messages.locator(".suggested")).to_have_text(re.compile(r"^Suggested: How do I return (shoes|boots)\? · "
                                                                   r"How do I return (shoes|boots)\?$"))
    assert messages.locator("a, b, img").count() == 0  # the console shows text only

    # After a reload the history renders the same way, and the rated answer stays rated.
    visitor.reload()
    visitor.click("[data-sb=launcher]")
    expect(answers).to_have_count(3)
    expect(answers.first.locator("a")).to_have_attribute("target", "_blank")
    expect(answered).to_contain_text("Thanks for your feedback")
    expect(answered.locator("[data-sb=rate-helpful]")).to_have_attribute("aria-pressed", "true")
    expect(answered.locator("[data-sb=rate-not-helpful]")).to_be_disabled()
    expect(visitor.locator("[data-sb=choice]:enabled")).to_have_count(0)
    expect(visitor.locator("[onerror]")).to_have_count(0)
    assert visitor.evaluate("document.title") != "pwned"
    assert page_errors == []
