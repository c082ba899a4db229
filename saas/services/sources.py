"""Source attribution: where a visitor came from, and on what device.

Plain functions over untrusted strings (the landing URL and ``document.referrer`` that the widget
reports, the User-Agent header). Nothing here imports Flask or the database, and nothing raises on
garbage: every input is cut to a fixed size before it is looked at, anything that is not an
http(s) URL counts as no URL at all, and every field that comes out is either clean text or None.

    parse_source(landing_url, referrer, own_hosts)  -> Source
    parse_user_agent(ua)                            -> Device
    channel_for(device_type, declared_channel)      -> "web" | "mobile_web" | "app" | ...

``Source.kind`` is decided in this order: ``internal`` (the referrer is one of the tenant's own
hosts, or the landing page's host), ``campaign`` (the landing URL carries utm_source, utm_medium
or utm_campaign: explicit tagging wins over what the referrer says, as in web analytics),
``search``, ``social``, ``referral`` (any other http(s) referrer), ``direct`` (no usable referrer).
The search engine, terms and social network are filled whenever the referrer shows them, whatever
the kind.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from ..models.reception import CHANNELS  # the one list of channels; re-exported

__all__ = [
    "KINDS", "CHANNELS", "MAX_URL_CHARS", "MAX_UA_CHARS", "MAX_TERMS_CHARS", "MAX_LANDING_CHARS",
    "Source", "Device", "parse_source", "parse_user_agent", "channel_for", "page_url", "plain_text",
]

MAX_URL_CHARS = 8192        # longer URLs are cut before any parsing
MAX_UA_CHARS = 1024         # longer User-Agent strings are cut before ua-parser sees them
MAX_TERMS_CHARS = 200       # search terms and utm_* values
MAX_LANDING_CHARS = 2048    # path + query kept for the landing page
_MAX_HOST_CHARS = 253
_MAX_QUERY_PAIRS = 256

KINDS = ("search", "social", "referral", "campaign", "direct", "internal")


@dataclass(frozen=True)
class Source:
    kind: str = "direct"
    referrer_domain: str | None = None
    search_engine: str | None = None
    search_terms: str | None = None
    social_network: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    landing_page: str | None = None


@dataclass(frozen=True)
class Device:
    device_type: str = "unknown"    # desktop | mobile | tablet | bot | unknown
    browser: str | None = None      # ua-parser family: "Chrome", "Mobile Safari", "Googlebot"...
    os: str | None = None           # ua-parser family: "Windows", "iOS", "Android", "Mac OS X"...


# --------------------------------------------------------------------------------------------
# Text hygiene

# C0/C1 controls, DEL, and the bidi embedding/override/isolate marks (display spoofing).
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_TEXT_JUNK_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]")


def _as_text(value: object, limit: int) -> str | None:
    """Untrusted str/bytes -> stripped str of at most ``limit`` characters, else None.

    The cut happens before anything else, so a megabyte-long value costs no more than a short one.
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value[:limit]).decode("utf-8", "replace")
    elif not isinstance(value, str):
        return None
    value = _CONTROL_RE.sub("", value[:limit]).strip()
    return value or None


def _clean_text(value: str, limit: int = MAX_TERMS_CHARS) -> str | None:
    """Decoded human text (search terms, utm values): no controls, whitespace collapsed, capped."""
    value = " ".join(_TEXT_JUNK_RE.sub(" ", value).split())
    value = value[:limit].rstrip()
    return value or None


# --------------------------------------------------------------------------------------------
# URLs

@dataclass(frozen=True)
class _Url:
    host: str | None      # lower-case, IDNA-decoded, no port/userinfo/brackets; None for a path
    path: str
    query: str
    fragment: str


def _split_url(value: object, allow_path: bool = False) -> _Url | None:
    """An http(s) URL (or, with ``allow_path``, a site-relative path) -> its parts, else None."""
    text = _as_text(value, MAX_URL_CHARS)
    if text is None:
        return None
    if allow_path and text.startswith("/") and not text.startswith(("//", "/\\")):
        path, query, fragment = _cut_path(text)
        return _Url(None, path, query, fragment)
    scheme, sep, _ = text.partition(":")
    if not sep or scheme.lower() not in ("http", "https"):
        return None         # javascript:, data:, file:, vbscript:, relative junk, ...
    # Browsers read "\" as "/" before the query in http(s) URLs ("https://evil.com\@good.com/").
    cut = min((i for i in (text.find("?"), text.find("#")) if i >= 0), default=len(text))
    text = text[:cut].replace("\\", "/") + text[cut:]
    try:
        parts = urlsplit(text)
        netloc = parts.netloc
    except ValueError:      # "http://[::1", bad brackets, ...
        return None
    host = _normalise_host(netloc)
    if host is None:
        return None
    return _Url(host, parts.path, parts.query, parts.fragment)


def _cut_path(text: str) -> tuple[str, str, str]:
    rest, _, fragment = text.partition("#")
    path, _, query = rest.partition("?")
    return path, query, fragment


_HOST_RE = re.compile(r"^[\w-]+(?:\.[\w-]+)*$")
_IPV6_RE = re.compile(r"^[0-9a-f:.]+$")


def _normalise_host(netloc: str) -> str | None:
    """'User:Pass@WWW.Example.COM:8080' -> 'www.example.com'; IDNA labels decoded; junk -> None."""
    host = netloc.rpartition("@")[2]        # userinfo never survives
    if host.startswith("["):
        inner, closed, _ = host[1:].partition("]")
        inner = inner.lower()
        return inner if closed and _IPV6_RE.match(inner) else None
    host = host.partition(":")[0]
    try:
        host = unquote(host, errors="strict")
    except UnicodeDecodeError:
        return None
    host = host.strip().rstrip(".").lower()
    if not host or len(host) > _MAX_HOST_CHARS:
        return None
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                label = label.encode("ascii").decode("idna").lower()
            except (UnicodeError, ValueError):
                return None
        labels.append(label)
    host = ".".join(labels)
    return host if _HOST_RE.match(host) else None


def _strip_www(host: str) -> str:
    return re.sub(r"^www\d*\.", "", host)


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """Raw (still percent-encoded) key/value pairs, keys lower-cased and decoded."""
    pairs = []
    for piece in query.split("&")[:_MAX_QUERY_PAIRS]:
        if not piece:
            continue
        key, _, raw = piece.partition("=")
        key = unquote(key.replace("+", " ")).strip().lower()
        pairs.append((key, raw))
    return pairs


_CHARSETS = {
    "utf-8": "utf-8", "utf8": "utf-8",
    "gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030", "cp936": "gb18030",
    "big5": "big5", "shift_jis": "shift_jis", "sjis": "shift_jis", "euc-jp": "euc_jp",
    "euc-kr": "euc_kr", "windows-1251": "cp1251", "cp1251": "cp1251", "koi8-r": "koi8_r",
    "iso-8859-1": "latin-1", "latin1": "latin-1", "windows-1252": "cp1252",
}
_CHARSET_KEYS = ("ie", "inputencoding", "enc", "encoding", "charset")


def _decode_value(raw: str, declared: str | None = None,
                  fallback: tuple[str, ...] = ()) -> str | None:
    """Percent-decode ``raw`` ('+' = space): strict UTF-8 first (GBK or cp1251 text is almost never
    valid UTF-8, while a stale ``ie=gbk`` next to UTF-8 bytes is common in hand-made links), then
    the declared charset, then each fallback (gb18030 for Chinese engines, cp1251 for Yandex),
    and last UTF-8 with the bad bytes dropped."""
    data = unquote_to_bytes(raw.replace("+", " "))
    for charset in ("utf-8",) + ((declared,) if declared else ()) + fallback:
        try:
            return _clean_text(data.decode(charset))
        except (UnicodeDecodeError, LookupError):
            continue
    return _clean_text(data.decode("utf-8", "replace"))


# --------------------------------------------------------------------------------------------
# Search engines and social networks

@dataclass(frozen=True)
class _Engine:
    name: str
    hosts: re.Pattern
    params: tuple[str, ...]
    fallback: tuple[str, ...] = ()     # charsets to try when the terms are not UTF-8


def _engine(name: str, hosts: str, params: tuple[str, ...], fallback: tuple[str, ...] = ()):
    return _Engine(name, re.compile(hosts), params, fallback)


_CJK = ("gb18030",)
_ENGINES = (
    # Only the search front ends: mail.google.com, baike.baidu.com, blog.naver.com... are referrals.
    _engine("google", r"^(?:(?:www|m|images|encrypted|ipv4|ipv6)\.)?google\.(?:com?\.)?[a-z]{2,3}$",
            ("q", "as_q")),
    _engine("bing", r"^(?:(?:www|cn|m|global|www2)\.)?bing\.com$", ("q",)),
    _engine("baidu", r"^(?:(?:www|m|wap|image|news|video)\.)?baidu\.com$", ("wd", "word", "kw"), _CJK),
    _engine("yahoo", r"^(?:[a-z0-9-]+\.)*search\.yahoo\.(?:com?\.)?[a-z]{2,3}$", ("p", "q")),
    _engine("duckduckgo", r"^(?:(?:www|html|lite|start)\.)?duckduckgo\.com$", ("q",)),
    _engine("yandex", r"^(?:(?:www|m)\.)?(?:yandex\.(?:com?\.)?[a-z]{2,3}|ya\.ru)$",
            ("text",), ("cp1251",)),
    _engine("sogou", r"^(?:(?:www|m|wap|weixin|pic)\.)?sogou\.com$", ("query", "keyword"), _CJK),
    _engine("so360", r"^(?:(?:www|m)\.)?(?:so|haosou)\.com$", ("q",), _CJK),
    _engine("shenma", r"^(?:(?:m|yz\.m)\.)?sm\.cn$", ("q",), _CJK),
    _engine("toutiao", r"^so\.toutiao\.com$", ("keyword",), _CJK),
    _engine("naver", r"^(?:m\.)?search\.naver\.com$", ("query",)),
    _engine("daum", r"^(?:m\.)?search\.daum\.net$", ("q",)),
    _engine("seznam", r"^(?:(?:www|search)\.)?seznam\.cz$", ("q",)),
    _engine("ecosia", r"^(?:www\.)?ecosia\.org$", ("q",)),
    _engine("qwant", r"^(?:www\.|lite\.)?qwant\.com$", ("q",)),
    _engine("startpage", r"^(?:www\.|eu\.|us\.)?startpage\.com$", ("query", "q")),
    _engine("brave", r"^search\.brave\.com$", ("q",)),
    _engine("ask", r"^(?:www\.)?ask\.com$", ("q",)),
    _engine("aol", r"^search\.aol\.(?:com|co\.uk)$", ("q", "query")),
    _engine("mojeek", r"^(?:www\.)?mojeek\.com$", ("q",)),
    _engine("kagi", r"^(?:www\.)?kagi\.com$", ("q",)),
    _engine("coccoc", r"^(?:www\.)?coccoc\.com$", ("query",)),
    _engine("petal", r"^(?:www\.|m\.)?petalsearch\.com$", ("query",)),
)

_SOCIAL = {
    "facebook": ("facebook.com", "fb.com", "fb.me", "messenger.com"),
    "twitter": ("twitter.com", "t.co", "x.com"),
    "linkedin": ("linkedin.com", "lnkd.in"),
    "weibo": ("weibo.com", "weibo.cn", "t.cn"),
    "wechat": ("weixin.qq.com", "wx.qq.com", "wechat.com"),
    "instagram": ("instagram.com",),
    "youtube": ("youtube.com", "youtu.be"),
    "reddit": ("reddit.com", "redd.it"),
    "tiktok": ("tiktok.com",),
    "douyin": ("douyin.com", "iesdouyin.com"),
    "zhihu": ("zhihu.com",),
    "pinterest": ("pinterest.com", "pin.it"),
    "vk": ("vk.com",),
    "threads": ("threads.net",),
    "bilibili": ("bilibili.com", "b23.tv"),
    "xiaohongshu": ("xiaohongshu.com", "xhslink.com"),
    "telegram": ("t.me", "telegram.org"),
    "whatsapp": ("whatsapp.com", "wa.me"),
    "quora": ("quora.com",),
}
_SOCIAL_BY_DOMAIN = {domain: name for name, domains in _SOCIAL.items() for domain in domains}

# Android hands pages an "android-app://<package>/" referrer when an app opened the link.
_ANDROID_APPS = {
    "com.google.android.googlequicksearchbox": ("search", "google"),
    "com.google.android.gm": ("referral", None),
    "com.facebook.katana": ("social", "facebook"),
    "com.facebook.orca": ("social", "facebook"),
    "com.twitter.android": ("social", "twitter"),
    "com.linkedin.android": ("social", "linkedin"),
    "com.sina.weibo": ("social", "weibo"),
    "com.tencent.mm": ("social", "wechat"),
    "com.instagram.android": ("social", "instagram"),
    "com.google.android.youtube": ("social", "youtube"),
    "com.reddit.frontpage": ("social", "reddit"),
    "com.zhiliaoapp.musically": ("social", "tiktok"),
    "com.ss.android.ugc.aweme": ("social", "douyin"),
    "com.zhihu.android": ("social", "zhihu"),
}


def _match_engine(host: str) -> _Engine | None:
    for engine in _ENGINES:
        if engine.hosts.match(host):
            return engine
    return None


def _match_social(host: str) -> str | None:
    labels = host.split(".")
    for i in range(len(labels) - 1):
        name = _SOCIAL_BY_DOMAIN.get(".".join(labels[i:]))
        if name:
            return name
    return None


def _search_terms(engine: _Engine, url: _Url) -> str | None:
    for query in (url.query, url.fragment):    # a few front ends keep the query after "#"
        pairs = _query_pairs(query)
        declared = None
        for key, raw in pairs:
            if key in _CHARSET_KEYS:
                declared = _CHARSETS.get(unquote(raw).strip().lower())
                break
        for param in engine.params:
            for key, raw in pairs:
                if key != param:
                    continue
                terms = _decode_value(raw, declared, engine.fallback)
                if terms is None:
                    continue
                if engine.name == "google" and url.path.startswith("/url") and re.match(
                        r"^https?://\S*$", terms, re.I):
                    continue            # /url?q=<destination>: a redirect, not a query
                return terms
    return None


def _host_key(host: object) -> str | None:
    """An own_hosts entry ('Shop.example.com:443', 'https://www.shop.com/') -> comparable host."""
    if not isinstance(host, str):
        return None
    host = _CONTROL_RE.sub("", host[:_MAX_HOST_CHARS + 64]).strip()
    if "://" in host:
        url = _split_url(host)
        return _strip_www(url.host) if url and url.host else None
    host = host.partition("/")[0]
    normal = _normalise_host(host)
    return _strip_www(normal) if normal else None


def page_url(value: object, limit: int = MAX_URL_CHARS) -> str | None:
    """An http(s) URL as reported by a browser, cut to ``limit`` characters; anything else
    (``javascript:``, ``data:``, relative junk, not a string) is None."""
    if _split_url(value) is None:
        return None
    return _as_text(value, limit)


def plain_text(value: object, limit: int) -> str | None:
    """Untrusted text (a page title...) without controls or bidi marks, cut to ``limit``."""
    return _as_text(value, limit)


# --------------------------------------------------------------------------------------------
# parse_source

_UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def _landing(url: _Url | None) -> tuple[str | None, dict[str, str | None]]:
    utm: dict[str, str | None] = dict.fromkeys(_UTM_KEYS)
    if url is None:
        return None, utm
    kept = []
    for piece in url.query.split("&")[:_MAX_QUERY_PAIRS]:
        if not piece:
            continue
        key = unquote(piece.partition("=")[0].replace("+", " ")).strip().lower()
        if key.startswith("utm_"):
            if key in utm and utm[key] is None:
                utm[key] = _decode_value(piece.partition("=")[2])
            continue
        kept.append(piece)
    # One leading slash only: "//evil.com" or "/\evil.com" must never read as another host.
    path = "/" + url.path.lstrip("/\\")
    page = path + ("?" + "&".join(kept) if kept else "")
    return page[:MAX_LANDING_CHARS], utm


def parse_source(landing_url: str | None, referrer: str | None,
                 own_hosts: set[str] | frozenset[str] = frozenset()) -> Source:
    """Attribute a session to its source. Never raises; see the module docstring for the rules.

    ``landing_url`` is the first page's full URL (a site-relative path is accepted too);
    ``referrer`` is ``document.referrer`` / the Referer header; ``own_hosts`` are the tenant's own
    hosts (ports and a leading "www." are ignored; the landing URL's host always counts as own).
    """
    landing = _split_url(landing_url, allow_path=True)
    landing_page, utm = _landing(landing)

    own: set[str] = set()
    if isinstance(own_hosts, str):
        own_hosts = {own_hosts}
    try:
        for entry in own_hosts or ():
            key = _host_key(entry)
            if key:
                own.add(key)
    except TypeError:       # not iterable
        pass
    if landing is not None and landing.host:
        own.add(_strip_www(landing.host))

    kind = "direct"
    domain = engine_name = terms = social = None
    ref = _split_url(referrer)
    if ref is not None and ref.host:
        domain = _strip_www(ref.host)
        engine = _match_engine(ref.host)
        if domain in own:
            kind = "internal"
        elif engine is not None:
            kind, engine_name = "search", engine.name
            terms = _search_terms(engine, ref)
        else:
            social = _match_social(ref.host)
            kind = "social" if social else "referral"
    else:
        app = _android_app(referrer)
        if app is not None:
            kind, name = app
            if kind == "search":
                engine_name = name
            elif kind == "social":
                social = name

    if kind != "internal" and (utm["utm_source"] or utm["utm_medium"] or utm["utm_campaign"]):
        kind = "campaign"
    if terms is None and kind != "internal":
        terms = utm["utm_term"]

    return Source(kind=kind, referrer_domain=domain, search_engine=engine_name, search_terms=terms,
                  social_network=social, landing_page=landing_page, **utm)


def _android_app(referrer: object) -> tuple[str, str | None] | None:
    text = _as_text(referrer, MAX_URL_CHARS)
    if not text or not text.lower().startswith("android-app://"):
        return None
    package = text[len("android-app://"):].partition("/")[0].lower()
    return _ANDROID_APPS.get(package)


# --------------------------------------------------------------------------------------------
# User agents

_BOT_RE = re.compile(
    r"bot/|bot;|\+https?://|crawl|spider|slurp|mediapartners|facebookexternalhit|embedly|"
    r"lighthouse|pingdom|uptimerobot", re.I)
_TABLET_RE = re.compile(r"ipad|tablet|kindle|silk/|playbook|nexus (?:7|9|10)\b|sm-t\d|sm-x\d", re.I)
_MOBILE_RE = re.compile(
    r"mobi|iphone|ipod|android|windows phone|iemobile|blackberry|bb10|opera mini|kaios|webos|"
    r"symbian|micromessenger", re.I)
_DESKTOP_RE = re.compile(r"windows nt|macintosh|mac os x|x11|cros|linux x86_64|freebsd", re.I)


def _family(part: object) -> str | None:
    family = getattr(part, "family", None)
    if not isinstance(family, str) or not family or family == "Other":
        return None
    return family[:64]


def parse_user_agent(ua: str | None) -> Device:
    """User-Agent -> Device(device_type, browser, os) through ua-parser. Never raises."""
    text = _as_text(ua, MAX_UA_CHARS)
    if text is None:
        return Device()
    try:
        import ua_parser
        result = ua_parser.parse(text)
    except Exception:       # noqa: BLE001 - a parser hiccup must not cost the visitor the chat
        result = None
    browser = _family(getattr(result, "user_agent", None))
    os_name = _family(getattr(result, "os", None))
    device = getattr(result, "device", None)
    device_family = getattr(device, "family", None) or ""
    brand = getattr(device, "brand", None) or ""

    if device_family == "Spider" or _BOT_RE.search(text):
        kind = "bot"
    elif device_family in ("iPad", "Kindle") or brand == "Generic_Android_Tablet" \
            or _TABLET_RE.search(text) \
            or ("android" in text.lower() and "mobi" not in text.lower()
                and "micromessenger" not in text.lower()):
        kind = "tablet"     # Chrome's rule: an Android UA without "Mobile" is a tablet
    elif device_family in ("iPhone", "iPod") or _MOBILE_RE.search(text) \
            or os_name in ("iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS"):
        kind = "mobile"
    elif os_name or _DESKTOP_RE.search(text):
        kind = "desktop"
    else:
        kind = "unknown"
    return Device(device_type=kind, browser=browser, os=os_name)


# --------------------------------------------------------------------------------------------
# Channels

_DECLARED = {
    "app": "app", "mobile_app": "app", "ios": "app", "android": "app", "sdk": "app",
    "phone": "phone", "voice": "phone", "call": "phone", "tel": "phone",
    "sms": "sms", "text": "sms",
    "api": "api",
}


def channel_for(device_type: str | None, declared_channel: str | None = None) -> str:
    """The conversation channel: declared app/phone/sms/api channels pass through; a browser
    (the widget) is "mobile_web" on a phone or tablet and "web" otherwise."""
    declared = declared_channel.strip().lower() if isinstance(declared_channel, str) else ""
    if declared in _DECLARED:
        return _DECLARED[declared]
    if device_type in ("mobile", "tablet"):
        return "mobile_web"
    if device_type == "desktop":
        return "web"
    return "mobile_web" if declared == "mobile_web" else "web"
