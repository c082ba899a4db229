"""The knowledge-base matching engine (saas/services/knowledge): fast, no server, no database.

The semantic tests run only where the `semantic` extra is installed (pip install '.[semantic]').
"""
import ast
import csv
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from saas.services.knowledge import (
    MAX_TEXT_CHARS,
    Entry,
    KnowledgeMatcher,
    LexicalIndex,
    Thresholds,
    normalize,
    semantic_available,
    tokens,
)
from saas.services.knowledge import semantic as semantic_module

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "saas" / "services" / "knowledge"
KB_CSV = ROOT / "bench" / "data" / "kb_sample.csv"

needs_semantic = pytest.mark.skipif(not semantic_available(), reason="the semantic extra is not installed")


def load_sample() -> list[Entry]:
    with KB_CSV.open(encoding="utf-8", newline="") as f:
        return [
            Entry(r["id"], r["question"], tuple(r["phrasings"].split("|")), r["answer"], category=r["category"])
            for r in csv.DictReader(f)
        ]


@pytest.fixture(scope="module")
def sample() -> list[Entry]:
    return load_sample()


@pytest.fixture
def matcher(sample) -> KnowledgeMatcher:
    return KnowledgeMatcher(sample)


# ---- the package stays pure --------------------------------------------------------------
def test_package_imports_no_flask_or_database():
    forbidden = ("flask", "sqlalchemy", "psycopg", "redis", "rq", "saas.models", "tenants")
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"


# ---- text --------------------------------------------------------------------------------
def test_normalisation_folds_width_case_and_punctuation():
    assert normalize("  ＲＥＦＵＮＤ\u3000please!! ") == "refund please!!"
    assert tokens("ＲＥＦＵＮＤＳ, please!!") == tokens("refunds") == ["refund"]
    # stop words go, stems meet, shop synonyms meet
    assert tokens("Where is my parcel?") == tokens("where's the package") == ["packag"]
    assert tokens("cancelled") == tokens("cancelling") == ["cancel"]


def test_chinese_is_segmented_and_mixed_text_keeps_both():
    terms = tokens("我的iPhone订单还没发货")
    assert "订单" in terms and "发货" in terms and "iphon" in terms
    assert "的" not in terms


def test_jieba_loads_lazily_and_quietly():
    code = (
        "import sys\n"
        "from saas.services.knowledge import tokens\n"
        "assert 'jieba' not in sys.modules\n"
        "tokens('refund please')\n"
        "assert 'jieba' not in sys.modules\n"
        "print(tokens('我要退货'))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "退货" in result.stdout
    assert "Building prefix dict" not in result.stderr and "Loading model" not in result.stderr


# ---- matching ----------------------------------------------------------------------------
def test_exact_question_and_phrasings_are_answered(matcher, sample):
    for entry in sample:
        for text in entry.texts():
            decision = matcher.decide(text)
            assert decision.kind == "answer", (entry.id, text, decision)
            assert decision.entry.id == entry.id
            assert decision.entry.answer == entry.answer


def test_paraphrases_are_answered(matcher):
    for query, expected in [
        ("shipping costs?", "ship-cost"),
        ("how much is delivery", "ship-cost"),
        ("Can I cancel my order?", "ord-cancel"),
        ("How can I use my gift card?", "pay-giftcard"),
        ("I was charged twice", "pay-double-charge"),
        ("How can I unsubscribe from the newsletter?", "acc-newsletter"),
    ]:
        decision = matcher.decide(query)
        assert decision.kind == "answer" and decision.entry.id == expected, (query, decision)


def test_typos_are_corrected_against_the_vocabulary(matcher):
    assert matcher.search("canel my order", 1)[0].entry_id == "ord-cancel"
    assert matcher.search("trak my order pls", 1)[0].entry_id == "ship-track"
    assert matcher.lexical.spell_corrected("where is the invoce") == "where is the invoice"


def test_chinese_query_matches_chinese_entry(matcher):
    decision = matcher.decide("退货的流程是怎样的")
    assert decision.kind == "answer" and decision.entry.id == "zh-ret-how"
    assert matcher.search("支付宝能用吗？", 1)[0].entry_id == "zh-pay-methods"
    assert matcher.search("我的iPhone订单多久能到？", 1)[0].entry_id == "zh-ship-time"


@pytest.mark.parametrize(
    "query",
    ["What is the capital of France?", "Tell me a joke", "asdfgh qwerty", "今天天气怎么样？", "How do I cook rice?"],
)
def test_out_of_scope_falls_back(matcher, query):
    assert matcher.decide(query).kind == "fallback"


def test_suggestions_when_two_entries_tie(matcher):
    decision = matcher.decide("How do I register?")  # acc-create and acc-guest ("…register to buy…")
    assert decision.kind in ("suggest", "answer")
    if decision.kind == "suggest":
        assert 1 <= len(decision.suggestions) <= 3
        assert "acc-create" in [e.id for e in decision.suggestions]


def test_decide_thresholds_shape():
    matcher = KnowledgeMatcher(
        [Entry("a", "reset password"), Entry("b", "reset username"), Entry("c", "change password")],
        lexical_thresholds=Thresholds(answer=0.99, suggest=0.1, window=1.0),
    )
    decision = matcher.decide("reset")
    assert decision.kind == "suggest" and 1 <= len(decision.suggestions) <= 3
    with pytest.raises(ValueError):
        Thresholds(answer=0.3, suggest=0.5)


def test_disabled_entries_never_match(sample):
    hidden = Entry("secret", "How do I unlock the secret discount?", ("secret discount",), "hush", enabled=False)
    matcher = KnowledgeMatcher([*sample, hidden])
    for query in ["How do I unlock the secret discount?", "secret discount"]:
        assert all(m.entry_id != "secret" for m in matcher.search(query, 10))
        decision = matcher.decide(query)
        assert decision.entry is None or decision.entry.id != "secret"
        assert all(e.id != "secret" for e in decision.suggestions)
    matcher.update(Entry("secret", hidden.question, hidden.phrasings, hidden.answer, enabled=True))
    assert matcher.decide("How do I unlock the secret discount?").entry.id == "secret"
    matcher.update(hidden)  # disabled again
    assert all(m.entry_id != "secret" for m in matcher.search("secret discount", 10))


def test_update_and_remove_are_visible_to_the_next_query(sample):
    matcher = KnowledgeMatcher(sample)
    assert matcher.decide("how do I collect loyalty points").kind != "answer"
    matcher.add(Entry("new", "Do you have a loyalty programme?", ("How do I collect loyalty points?",), "Yes."))
    decision = matcher.decide("how do I collect loyalty points")
    assert decision.kind == "answer" and decision.entry.id == "new"
    # update: a different question replaces the old texts
    matcher.update(Entry("new", "Do you offer student discounts?", (), "10% with a student card."))
    assert all(m.entry_id != "new" for m in matcher.search("loyalty points", 5))
    decision = matcher.decide("do you offer student discounts")
    assert decision.kind == "answer" and decision.entry.answer == "10% with a student card."
    # remove
    assert matcher.remove("new") is True
    assert matcher.remove("new") is False
    assert all(m.entry_id != "new" for m in matcher.search("student discounts", 5))
    assert matcher.decide("do you offer student discounts").kind == "fallback"


def test_incremental_index_equals_a_fresh_build(sample):
    grown = LexicalIndex(sample[:10])
    for entry in sample[10:]:
        grown.add(entry)
    for entry in sample[:5]:
        grown.remove(entry.id)
        grown.add(entry)
    fresh = LexicalIndex(sample)
    for query in ["where is my parcel", "refund to my card", "我想退货", "gift card balance"]:
        a = [(m.entry_id, round(m.score, 6)) for m in grown.search(query, 5)]
        b = [(m.entry_id, round(m.score, 6)) for m in fresh.search(query, 5)]
        assert a == b, query


# ---- hostile input -----------------------------------------------------------------------
@pytest.mark.parametrize("query", ["", "   ", "\n\t ", "?!?!", "<p></p>"])
def test_empty_or_blank_query_falls_back(matcher, query):
    assert matcher.decide(query).kind == "fallback"
    assert matcher.search(query) == []


def test_non_string_query_is_a_type_error(matcher):
    with pytest.raises(TypeError):
        matcher.decide(None)
    with pytest.raises(TypeError):
        matcher.search(b"refund")


def test_megabyte_query_is_truncated(matcher):
    huge = "How do I cancel my order? " + "x" * (1024 * 1024)
    decision = matcher.decide(huge)
    assert decision.kind in ("answer", "suggest", "fallback")
    assert len(normalize(huge)) <= MAX_TEXT_CHARS
    # a megabyte of real words is cut too, and does not crash
    words = ("refund delivery password " * 50_000)[: 1024 * 1024]
    assert len(normalize(words)) <= MAX_TEXT_CHARS
    assert matcher.decide(words).kind in ("answer", "suggest", "fallback")


def test_html_in_the_query_is_plain_text(matcher):
    # markup is punctuation plus words: tags are neither stripped as markup nor executed
    assert tokens("<img src=x onerror=alert(1)>") == tokens("img src x onerror alert 1")
    decision = matcher.decide("<b>How do I cancel my order?</b>")
    assert decision.kind == "answer" and decision.entry.id == "ord-cancel"
    # the words of a script tag count as words the knowledge base doesn't know: no confident answer
    decision = matcher.decide("<script>alert('pwned')</script>")
    assert decision.kind == "fallback"
    assert "script" in tokens("<script>alert('pwned')</script>")
    assert matcher.decide("<div><span></span></div>").kind == "fallback"
    # entries may contain markup-like text too; it is matched as text
    html = KnowledgeMatcher([Entry("h", "What does <br> mean in my invoice?", (), "A line break.")])
    assert html.decide("what does br mean in my invoice").entry.id == "h"


# ---- concurrency and tenants -------------------------------------------------------------
def test_reads_while_writing_are_consistent(sample):
    matcher = KnowledgeMatcher(sample)
    errors = []
    stop = threading.Event()

    def reader():
        try:
            while not stop.is_set():
                top = matcher.search("How do I cancel my order?", 3)
                assert top and top[0].entry_id == "ord-cancel"
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(200):
        matcher.add(Entry(f"tmp-{i}", f"temporary question number {i} about parcels", (), "x"))
        if i % 2:
            matcher.remove(f"tmp-{i - 1}")
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert sum(1 for e in matcher.lexical.entries() if e.id.startswith("tmp-")) == 100


# ---- semantic re-rank --------------------------------------------------------------------
def test_without_the_extra_the_engine_is_lexical(monkeypatch, sample):
    monkeypatch.setattr(semantic_module, "semantic_available", lambda: False)
    matcher = KnowledgeMatcher(sample, semantic="auto")
    assert not matcher.uses_semantic
    assert matcher.decide("How do I cancel my order?").entry.id == "ord-cancel"


@needs_semantic
def test_model_loads_offline_from_the_package():
    """In a fresh process with the network cut off: the packaged model must load and embed."""
    code = textwrap.dedent(
        """
        import os, socket
        def refuse(*args, **kwargs):
            raise OSError("network access attempted")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        from saas.services.knowledge.semantic import Embedder, model_path
        embedder = Embedder()
        assert os.environ["HF_HUB_OFFLINE"] == "1"
        assert str(embedder.path) == str(model_path()) and "site-packages" in str(embedder.path)
        v = embedder.encode(["where is my parcel", "track my order", "reset my password"])
        assert v.shape == (3, 384)
        assert float(v[0] @ v[1]) > float(v[0] @ v[2])
        print("ok")
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["HF_HUB_OFFLINE"] = "1"
    env["HF_HOME"] = "/nonexistent-hf-home"  # no cache to fall back on: weights come from the package
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


@pytest.fixture(scope="module")
def semantic_matcher(sample):
    return KnowledgeMatcher(sample, semantic=True)


@needs_semantic
def test_semantic_rerank_answers_paraphrases_lexical_misses(sample, semantic_matcher):
    lexical = KnowledgeMatcher(sample)
    for query, expected in [
        ("You sent me a completely different product", "ret-wrong-item"),
        ("I'd like to close my customer account", "acc-delete"),
    ]:
        assert lexical.search(query, 1)[0].entry_id != expected  # "close" -> support hours, etc.
        decision = semantic_matcher.decide(query)
        assert decision.kind == "answer" and decision.entry.id == expected, (query, decision)
        assert decision.matches[0].semantic is not None


@needs_semantic
def test_semantic_index_follows_entry_changes(sample, semantic_matcher):
    entry = Entry("sem-new", "Do you run a loyalty scheme with reward points?", (), "Yes.")
    semantic_matcher.add(entry)
    try:
        assert semantic_matcher.search("Can I earn points when I shop with you?", 1)[0].entry_id == "sem-new"
        semantic_matcher.update(Entry("sem-new", entry.question, (), "Yes.", enabled=False))
        assert all(m.entry_id != "sem-new" for m in semantic_matcher.search("Can I earn points when I shop?", 5))
    finally:
        semantic_matcher.remove("sem-new")
    assert "sem-new" not in semantic_matcher.semantic.similarities(semantic_matcher.semantic.encode_query("points"))
    # Chinese stays lexical even with the model loaded
    assert semantic_matcher.decide("退货的流程是怎样的").entry.id == "zh-ret-how"
    assert semantic_matcher.decide("What is the capital of France?").kind == "fallback"
