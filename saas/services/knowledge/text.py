"""Normalisation and tokenisation for the knowledge-base matcher.

``tokens(text)`` turns free text (English, Simplified Chinese, or both mixed in one sentence) into
the index terms that the lexical ranker counts:

* Unicode NFKC (full-width letters and digits become ASCII, compatibility forms fold), then
  ``casefold`` (a stronger lower-case);
* everything that is not a letter, digit or CJK character is a separator, so punctuation, emoji and
  HTML markup are plain separators: ``<b>refund</b>`` is the word ``refund`` next to a word ``b``;
  nothing is ever interpreted;
* English: apostrophes are dropped inside words (``don't`` -> ``dont``), stop words and chat filler
  are removed, a few irregular forms are mapped (``paid`` -> ``pay``), the Snowball (Porter 2)
  stemmer runs, and a short table of shop-domain synonyms maps e.g. ``parcel`` onto ``package``;
* Chinese: runs of CJK characters are segmented with ``jieba`` (search mode, so long words also
  yield their sub-words), and Chinese function words are removed;
* digits stay as terms (order numbers, ``30`` days).

jieba is imported and its dictionary loaded lazily, once per process, with its logging silenced;
it reads the dictionary from its own package (no network).
"""
from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata

# Longest text the matcher looks at. A chat message longer than this is cut before any work, so a
# 1 MB paste costs the same as a 2 kB one.
MAX_TEXT_CHARS = 2000
MAX_WORD_CHARS = 40

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# One run of CJK characters, or one run of other word characters (letters/digits; apostrophes inside).
_TOKEN_RE = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+(?:['\u2019][^\W_{_CJK}]+)*)")
_CJK_RE = re.compile(rf"[{_CJK}]")

ENGLISH_STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are aren arent as at be because been before
    being below between both but by can cannot cant could couldn couldnt did didn didnt do does
    doesn doesnt doing don dont down during each few for from further had hadn hadnt has hasn hasnt
    have haven havent having he her here hers herself him himself his how i if in into is isn isnt it
    its itself just let lets me more most my myself no nor not of off on once only or other ought our
    ours ourselves out over own same shall she should shouldn shouldnt so some such than that thats
    the their theirs them themselves then there theres these they this those through to too under
    until up very was wasn wasnt we were weren werent what whats when where which while who whom why
    will with won wont would wouldn wouldnt you your yours yourself yourselves im ive id ill youre
    youve youll hes shes were theyre weve s t d ll m re ve also anyway
    hi hello hey please pls plz thanks thank thx ok okay yes yeah hmm um uh dear
    want wanted wants need needs needed like would know tell help possible able get gets getting
    """.split()
)

CHINESE_STOP_WORDS = frozenset(
    """
    的 了 吗 呢 吧 啊 呀 嘛 哦 么 是 我 我们 你 你们 您 他 她 它 在 有 和 与 及 或 就 都 也 还 很 把 被
    让 给 对 从 到 这 那 这个 那个 一个 个 请问 请 问 一下 下 想 要 能 能不能 可以 可不可以 怎么 怎么办
    怎样 如何 什么 为什么 多少 哪 哪里 哪些 哪儿 谢谢 你好 您好 大概 一般 现在 已经 应该 会 一直 还是 然后
    以后 之后 以前 有没有 是不是 能否 啥 呗 哈 嗯 喂 一些 有点 比较 非常 真的 到底 究竟 帮 帮我 麻烦 但是
    因为 所以 如果 而且 或者 自己 他们 它们 这些 那些 这么 那么 怎么样 为了 关于 只 又 再 才 得 地 之
    """.split()
)

# Irregular forms that a suffix stemmer cannot join to their stem.
_IRREGULAR = {
    "paid": "pay", "bought": "buy", "sent": "send", "got": "get", "gotten": "get", "gave": "give",
    "given": "give", "broke": "break", "broken": "break", "took": "take", "taken": "take",
    "made": "make", "came": "come", "went": "go", "gone": "go", "lost": "lose", "left": "leave",
    "ran": "run", "wrote": "write", "written": "write", "chose": "choose", "chosen": "choose",
    "forgot": "forget", "forgotten": "forget", "wore": "wear", "worn": "wear", "kept": "keep",
    "shipt": "ship", "emailed": "email", "e": "", "mail": "email",
}

# Words a shopper uses interchangeably for the same thing, mapped (after stemming) onto one term.
# Kept short and generic to online shops; a tenant teaches the bot its own words by adding
# phrasings to an entry, not by editing this table.
_SYNONYM_GROUPS = {
    "packag": ["parcel", "package", "packet", "box"],
    "deliv": ["deliveri", "deliv", "ship", "shipment", "dispatch", "post", "postag", "courier"],
    "refund": ["refund", "reimburs", "moneyback"],
    "cancel": ["cancel", "revok"],
    "item": ["item", "product", "articl", "merchandis"],
    "order": ["order", "purchas"],
    "pay": ["pay", "payment"],
    "cost": ["cost", "price", "fee", "charg"],
    "email": ["email", "e-mail"],
    "login": ["login", "log", "signin", "logon"],
    "password": ["password", "passwort", "pwd", "passcod"],
    "coupon": ["coupon", "voucher", "promo", "discount"],
    "invoic": ["invoic", "receipt", "bill"],
    "phone": ["phone", "telephon", "call", "hotlin"],
    "account": ["account", "profil"],
    "damag": ["damag", "break", "crack", "smash", "dent", "defect"],
    "arriv": ["arriv", "come", "receiv"],
    "quick": ["quick", "fast", "express", "expedit", "rush", "urgent", "faster", "quicker"],
    "abroad": ["abroad", "intern", "intl", "oversea", "foreign"],
}
_SYNONYMS = {word: canon for canon, words in _SYNONYM_GROUPS.items() for word in words}

_jieba = None
_jieba_lock = threading.Lock()


def _segmenter():
    """The jieba module, imported and initialised once (about a second, from its own dictionary)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


_stemmer_local = threading.local()


def _stemmer():
    # snowballstemmer objects keep state while stemming: one per thread.
    stemmer = getattr(_stemmer_local, "stemmer", None)
    if stemmer is None:
        import snowballstemmer

        stemmer = _stemmer_local.stemmer = snowballstemmer.stemmer("english")
    return stemmer


def normalize(text: str) -> str:
    """NFKC + casefold, cut to MAX_TEXT_CHARS, whitespace collapsed. Raises TypeError on non-str."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    text = unicodedata.normalize("NFKC", text[: MAX_TEXT_CHARS * 2])[:MAX_TEXT_CHARS]
    return " ".join(text.casefold().split())


@functools.lru_cache(maxsize=50_000)
def english_term(word: str) -> str:
    """Stop word -> '', else the stemmed, synonym-mapped term of one lower-case word."""
    if len(word) > MAX_WORD_CHARS:  # no real word is this long: an opaque term, no stemming
        return word[:MAX_WORD_CHARS]
    word = word.replace("\u2019", "'")
    if word.endswith("'s"):  # possessive or "is": customer's -> customer, where's -> where
        word = word[:-2]
    word = word.replace("'", "")
    if word in ENGLISH_STOP_WORDS:
        return ""
    word = _IRREGULAR.get(word, word)
    if not word:
        return ""
    if word.isdigit():
        return word
    if len(word) == 1:  # stray letters ("b" of <b>, "s" of it's): no meaning on their own
        return ""
    stem = _stemmer().stemWord(word)
    return _SYNONYMS.get(stem, _SYNONYMS.get(word, stem))


def chinese_terms(run: str) -> list[str]:
    """Segment one run of CJK characters; drop function words and lone punctuation."""
    out = []
    for word in _segmenter().cut_for_search(run):
        if word and word not in CHINESE_STOP_WORDS:
            out.append(word)
    return out


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def cjk_share(text: str) -> float:
    """Share of the letters/ideographs of ``text`` that are CJK (0.0 for empty text)."""
    letters = [c for c in text if c.isalnum()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if _CJK_RE.match(c)) / len(letters)


def term_pairs(text: str) -> list[tuple[str, str]]:
    """(surface word, index term) for each term of ``text``: ``("Parcels", "packag")``."""
    text = normalize(text)
    out: list[tuple[str, str]] = []
    for cjk, word in _TOKEN_RE.findall(text):
        if cjk:
            out.extend((w, w) for w in chinese_terms(cjk))
        else:
            term = english_term(word)
            if term:
                out.append((word, term))
    return out


def tokens(text: str) -> list[str]:
    """Index terms of ``text`` in order, duplicates kept (term frequency matters)."""
    return [term for _, term in term_pairs(text)]
