"""The knowledge-base bot over real Socket.IO: answers, suggestions, fallback, ratings, live index
updates across processes, CSV import, and never another tenant's entries."""
import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from saas.models import BotTurn, KnowledgeEntry
from saas.services import bot, knowledge_base
from saas.services.errors import Invalid
from tenants import tenant_context, tenant_session
from tests.routing_helpers import configure, messages_until

SAMPLE_KB = Path(__file__).resolve().parent.parent / "bench" / "data" / "kb_sample.csv"


def _with_sample_kb(app, tenant) -> int:
    with app.app_context(), tenant_context(tenant.ref):
        return knowledge_base.import_csv(tenant_session(), SAMPLE_KB.read_bytes()).added


def _entry_id(app, tenant, question: str) -> int:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().scalar(select(KnowledgeEntry.id).where(KnowledgeEntry.question == question))


def _ask(visitor, question: str) -> dict:
    """The bot's reply to ``question`` (skipping the greeting and the visitor's own echo)."""
    assert visitor.send(question)["ok"]
    replies = messages_until(visitor, lambda m: m["sender"]["type"] == "bot" and m["body"] != bot.GREETING)
    return replies[-1]


def _turns(app, tenant) -> list[tuple[str, str]]:
    with app.app_context(), tenant_context(tenant.ref):
        return [(t.question, t.outcome) for t in tenant_session().scalars(select(BotTurn).order_by(BotTurn.id))]


@pytest.fixture
def shop(app, make_tenant):
    tenant = make_tenant()
    configure(app, tenant, reception_mode="bot_only")
    assert _with_sample_kb(app, tenant) >= 40
    return tenant


def test_exact_paraphrase_typo_suggestion_and_fallback(server, app, shop, clients):
    visitor = clients.visitor(server, shop)
    exact = _ask(visitor, "How long does delivery take?")
    assert exact["body"].startswith("Standard delivery takes 2-4 business days")
    assert exact["extras"]["rate_turn"] > 0
    paraphrase = _ask(visitor, "What do you charge for delivery?")  # "How much does shipping cost?"
    assert paraphrase["body"].startswith("Standard shipping is free on orders over 50 EUR")
    assert _ask(visitor, "shiping costs?")["body"] == paraphrase["body"]  # a typo

    suggestion = _ask(visitor, "How much is postage to the UK?")
    assert suggestion["body"] == bot.DID_YOU_MEAN
    assert "How much does shipping cost?" in [s["label"] for s in suggestion["extras"]["suggestions"]]

    fallback = _ask(visitor, "What is the capital of France?")
    assert fallback["body"] == bot.FALLBACK_TEXT
    assert fallback["extras"]["quick_replies"] == [bot.TALK_TO_A_HUMAN]

    assert [outcome for _, outcome in _turns(app, shop)] == ["answered", "answered", "answered", "suggested", "fallback"]


def test_the_greeting_offers_the_most_answered_questions(server, app, shop, clients):
    first = clients.visitor(server, shop)
    for _ in range(2):
        _ask(first, "How much does shipping cost?")
    later = clients.visitor(server, shop)
    later.send("hello")
    greeting = messages_until(later, lambda m: m["body"] == bot.GREETING)[-1]
    assert greeting["extras"]["quick_replies"][0] == {"label": "How much does shipping cost?",
                                                      "value": "How much does shipping cost?"}


def test_visitors_rate_answers_and_only_their_own(server, app, shop, clients):
    visitor, stranger = clients.visitor(server, shop), clients.visitor(server, shop)
    answer = _ask(visitor, "How long does delivery take?")
    turn_id = answer["extras"]["rate_turn"]
    fallback_turn = len(_turns(app, shop)) + 1
    _ask(visitor, "What is the capital of France?")

    assert stranger.call("bot:rate", {"turn_id": turn_id, "rating": "not_helpful"})["ok"]  # no conversation yet
    _ask(stranger, "Can I pay with PayPal?")
    refused = {
        "someone else's": stranger.call("bot:rate", {"turn_id": turn_id, "rating": "not_helpful"}),
        "a fallback": visitor.call("bot:rate", {"turn_id": fallback_turn, "rating": "helpful"}),
        "a bad rating": visitor.call("bot:rate", {"turn_id": turn_id, "rating": "meh"}),
        "a bad id": visitor.call("bot:rate", {"turn_id": "1", "rating": "helpful"}),
    }
    assert {k: r["error"]["code"] for k, r in refused.items()} == {
        "someone else's": "turn_not_found", "a fallback": "turn_not_found", "a bad rating": "invalid_rating",
        "a bad id": "invalid_payload"}
    assert visitor.call("bot:rate", {"turn_id": turn_id, "rating": "helpful"})["rated"] == "helpful"
    assert visitor.call("bot:rate", {"turn_id": turn_id, "rating": "not_helpful"})["rated"] == "not_helpful"
    with app.app_context(), tenant_context(shop.ref):
        assert tenant_session().get(BotTurn, turn_id).rating == "not_helpful"


def test_an_edit_reaches_every_server_process_without_a_restart(backend, start_server, app, make_tenant, clients):
    processes = [start_server(name="web1"), start_server(name="web2")] if backend.name == "postgresql" \
        else [start_server(name="web1")]
    tenant = make_tenant()
    configure(app, tenant, reception_mode="bot_only")
    visitors = [clients.visitor(process, tenant) for process in processes]
    for visitor in visitors:
        assert _ask(visitor, "Do you sell gift cards?")["body"] == bot.FALLBACK_TEXT  # each builds its index

    with app.app_context(), tenant_context(tenant.ref):
        created = knowledge_base.create_entry(tenant_session(), question="Do you sell gift cards?",
                                              phrasings=["gift vouchers"], answer="Yes, from 10 to 500 EUR.")
    for visitor in visitors:
        assert _ask(visitor, "Do you sell gift cards?")["body"] == "Yes, from 10 to 500 EUR."

    with app.app_context(), tenant_context(tenant.ref):
        knowledge_base.update_entry(tenant_session(), created.id, question="Do you sell gift cards?", phrasings=[],
                                    answer="Yes.", enabled=False)
    for visitor in visitors:
        assert _ask(visitor, "Do you sell gift cards?")["body"] == bot.FALLBACK_TEXT  # disabled: never matched


def test_another_tenants_entries_are_never_matched(server, app, shop, make_tenant, clients):
    empty = make_tenant()
    configure(app, empty, reception_mode="bot_only")
    visitor = clients.visitor(server, empty)
    assert _ask(visitor, "How do I reset my password?")["body"] == bot.FALLBACK_TEXT
    assert _ask(clients.visitor(server, shop), "How do I reset my password?")["body"] != bot.FALLBACK_TEXT


def test_html_in_questions_is_text_and_in_answers_is_sanitised(server, app, shop, clients):
    with app.app_context(), tenant_context(shop.ref):
        entry = knowledge_base.create_entry(
            tenant_session(), question="Where is your shop?", phrasings=[],
            answer='<p>At <b>Main St 1</b></p><script>alert(1)</script><a href="javascript:alert(1)">map</a>'
                   '<img src="https://example.test/shop.png" onerror="alert(1)">')
        assert "<script" not in entry.answer and "javascript:" not in entry.answer and "onerror" not in entry.answer
        assert "<b>Main St 1</b>" in entry.answer
    visitor = clients.visitor(server, shop)
    answer = _ask(visitor, "Where is your <b>shop</b>?")
    assert answer["extras"]["answer_html"] == entry.answer
    assert "<" not in answer["body"] and answer["body"].startswith("At Main St 1")
    assert visitor.history()["messages"][1]["body"] == "Where is your <b>shop</b>?"  # kept as text
    assert _ask(visitor, " " * 10 + "x" * 4990)["body"] == bot.FALLBACK_TEXT  # long, still answered quickly
    assert visitor.send("   ")["error"]["code"] == "empty_message"
    assert visitor.send("x" * 5001)["error"]["code"] == "message_too_long"


def test_a_csv_with_bad_rows_reports_each_line_and_imports_nothing(app, make_tenant):
    tenant = make_tenant()
    data = (
        "question,phrasings,answer,category,department,enabled\n"
        "Good one,a|b,Fine answer,general,,true\n"
        ",x,No question,general,,true\n"  # line 3
        "Another good,,Also fine,general,,\n"
        "No answer,,,general,,true\n"  # line 5
        "Unknown department,,An answer,general,Nowhere,true\n"  # line 6
        "Bad flag,,An answer,general,,maybe\n"  # line 7
    ).encode()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        with pytest.raises(knowledge_base.ImportRefused) as refused:
            knowledge_base.import_csv(session, data)
        assert [p.line for p in refused.value.problems] == [3, 5, 6, 7]
        assert "line 6: No department called 'Nowhere'." in refused.value.message
        assert session.scalars(select(KnowledgeEntry)).all() == []
        for bad, code in ((b"\xff\xfe\x00", "import_not_utf8"), (b"name,text\nx,y\n", "import_bad_header"),
                          (b"question,answer\n", "import_empty"),
                          (b"question,answer\n" + b"q,a\n" * 5001, "import_too_many_rows"),
                          (b"question,answer\n" + b"q,a\n" * 600_000, "import_too_large")):
            with pytest.raises(Invalid) as error:
                knowledge_base.import_csv(session, bad)
            assert error.value.code == code
        exported = knowledge_base.export_csv(session)
        assert exported.splitlines() == ["question,phrasings,answer,category,department,enabled"]
        assert knowledge_base.import_csv(session, data.replace(b",x,No question", b"Q,x,No question")
                                         .replace(b"No answer,,,", b"No answer,,A,")
                                         .replace(b"Nowhere", b"").replace(b"maybe", b"false")).added == 6
        assert len(knowledge_base.export_csv(session).splitlines()) == 7


def test_a_recreated_tenant_never_gets_a_dropped_tenants_answers(app, make_tenant):
    """Registry ids can be reused after a drop (SQLite does): the matcher cache must not be."""
    from tenants import provisioning

    with app.app_context():
        first = provisioning.create_tenant("alpha-kb", "Alpha")
        with tenant_context(first):
            session = tenant_session()
            knowledge_base.create_entry(session, question="What is the secret of Alpha?", phrasings=[],
                                        answer="Alpha's private answer")
            assert bot.respond(session, "What is the secret of Alpha?").text == "Alpha's private answer"
        provisioning.drop_tenant(first)
        second = provisioning.create_tenant("beta-kb", "Beta")
        try:
            with tenant_context(second):
                assert bot.respond(tenant_session(), "What is the secret of Alpha?").text == bot.FALLBACK_TEXT
        finally:
            provisioning.drop_tenant(second)


def test_an_answers_plain_text_reads_like_the_answer():
    assert knowledge_base.answer_text("<p>Fish &amp; chips</p><p>Second</p><ul><li>a</li><li>b</li></ul> 1 &lt; 2") \
        == "Fish & chips\nSecond\na\nb\n1 < 2"


def test_the_tenant_words_the_greeting_the_fallback_and_the_hand_off_keywords(server, app, make_tenant, clients):
    from saas.services import reception_settings
    from saas.models import User

    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        owner = session.get(User, tenant.owner.id)
        for bad in ({"bot_greeting": "  "}, {"bot_fallback": "x" * 1001},
                    {"bot_handoff_keywords": ", ,"}, {"bot_handoff_keywords": ",".join(f"w{n}" for n in range(21))}):
            with pytest.raises(Invalid):
                reception_settings.update_settings(session, owner, **bad)
        reception_settings.update_settings(session, owner, reception_mode="bot_first", bot_greeting="Hej! 👋",
                                           bot_fallback="Det vet jag inte.", bot_handoff_keywords="människa, 人工")
    clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)
    visitor.send("Vad kostar frakten?")
    got = messages_until(visitor, lambda m: m["body"] == "Det vet jag inte.")
    assert [m["body"] for m in got if m["sender"]["type"] == "bot"] == ["Hej! 👋", "Det vet jag inte."]
    visitor.send("我要人工服务")  # no spaces between Chinese words: the keyword still counts
    messages_until(visitor, lambda m: m["body"] == bot.HANDING_OVER)


def test_exported_cells_never_run_as_spreadsheet_formulas_and_round_trip_exactly(app, make_tenant):
    source, target = make_tenant(), make_tenant()
    with app.app_context():
        with tenant_context(source.ref):
            session = tenant_session()
            knowledge_base.create_entry(session, question="=HYPERLINK(\"http://evil.test\")", phrasings=["-1+1", "@me"],
                                        answer="+ plus is fine", category="=cmd")
            with pytest.raises(Invalid, match="cannot contain"):
                knowledge_base.create_entry(session, question="A|B", phrasings=["a | b"], answer="x")
            exported = knowledge_base.export_csv(session)
        cells = list(csv.reader(io.StringIO(exported)))[1]
        assert cells[:4] == ["'=HYPERLINK(\"http://evil.test\")", "'-1+1|@me", "'+ plus is fine", "'=cmd"]
        with tenant_context(target.ref):
            session = tenant_session()
            assert knowledge_base.import_csv(session, exported.encode()).added == 1
            entry = session.scalars(select(KnowledgeEntry)).one()
            assert (entry.question, entry.phrasings, entry.category) == ("=HYPERLINK(\"http://evil.test\")",
                                                                         ["-1+1", "@me"], "=cmd")
            assert entry.answer == "+ plus is fine"


def test_a_stored_answer_always_passes_its_own_next_edit(app, make_tenant):
    """Sanitising lengthens links (rel=…); the length limit applies to what is stored."""
    tenant = make_tenant()
    links = '<a href="https://example.test/x">x</a>' * (knowledge_base.MAX_ANSWER // 40)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        with pytest.raises(Invalid, match="at most"):
            knowledge_base.create_entry(session, question="Links?", phrasings=[], answer=links)
        fitting = links[: len(links) // 2]
        entry = knowledge_base.create_entry(session, question="Links?", phrasings=[], answer=fitting)
        assert len(entry.answer) <= knowledge_base.MAX_ANSWER
        again = knowledge_base.update_entry(session, entry.id, question="Links?", phrasings=[], answer=entry.answer)
        assert again.answer == entry.answer
