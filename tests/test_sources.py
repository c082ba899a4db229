"""Source attribution (saas/services/sources.py): referrer table, UTM, bad input, user agents."""
import time
from dataclasses import FrozenInstanceError

import pytest

from saas.services.sources import (
    MAX_LANDING_CHARS, MAX_TERMS_CHARS, Device, Source, channel_for, parse_source, parse_user_agent,
)

LANDING = "https://shop.example.com/pricing"
OWN = {"shop.example.com", "help.example.com"}

# (referrer, kind, referrer_domain, search_engine, search_terms, social_network)
REFERRERS = [
    # --- Google: modern secure search sends no q; old/other front ends still do -----------------
    ("https://www.google.com/", "search", "google.com", "google", None, None),
    ("https://www.google.com/search?q=live+chat+software&oq=live+chat&sourceid=chrome&ie=UTF-8",
     "search", "google.com", "google", "live chat software", None),
    ("https://www.google.co.uk/", "search", "google.co.uk", "google", None, None),
    ("https://www.google.co.jp/search?q=%E3%83%81%E3%83%A3%E3%83%83%E3%83%88+%E3%82%B5%E3%83%9D"
     "%E3%83%BC%E3%83%88&hl=ja", "search", "google.co.jp", "google", "チャット サポート", None),
    ("https://www.google.com.hk/search?q=%E5%9C%A8%E7%BA%BF%E5%AE%A2%E6%9C%8D&hl=zh-CN",
     "search", "google.com.hk", "google", "在线客服", None),
    ("https://www.google.de/url?sa=t&rct=j&q=&esrc=s&source=web&cd=1&url=https%3A%2F%2Fshop."
     "example.com%2F", "search", "google.de", "google", None, None),
    ("https://www.google.com/url?q=https://shop.example.com/pricing&sa=D&source=editors",
     "search", "google.com", "google", None, None),
    ("https://images.google.com/", "search", "images.google.com", "google", None, None),
    ("https://mail.google.com/", "referral", "mail.google.com", None, None, None),
    # --- Bing ----------------------------------------------------------------------------------
    ("https://www.bing.com/search?q=customer+service+platform&form=QBLH&sp=-1",
     "search", "bing.com", "bing", "customer service platform", None),
    ("https://cn.bing.com/search?q=%E5%9C%A8%E7%BA%BF%E5%AE%A2%E6%9C%8D&FORM=BESBTB",
     "search", "cn.bing.com", "bing", "在线客服", None),
    # --- Baidu: UTF-8 and GBK, wd and word, link redirect without terms --------------------------
    ("https://www.baidu.com/s?wd=%E4%BD%A0%E5%A5%BD&rsv_spt=1&ie=utf-8",
     "search", "baidu.com", "baidu", "你好", None),
    ("https://www.baidu.com/s?wd=%C4%E3%BA%C3&ie=gbk", "search", "baidu.com", "baidu", "你好", None),
    ("https://www.baidu.com/s?ie=gb2312&wd=%BF%CD%B7%FE%C8%ED%BC%FE",
     "search", "baidu.com", "baidu", "客服软件", None),
    ("http://www.baidu.com/s?wd=%BF%CD%B7%FE%CF%B5%CD%B3&rsv_bp=0",   # GBK, no ie=: fallback
     "search", "baidu.com", "baidu", "客服系统", None),
    ("https://m.baidu.com/s?word=%E5%9C%A8%E7%BA%BF%E5%AE%A2%E6%9C%8D&from=1000953f",
     "search", "m.baidu.com", "baidu", "在线客服", None),
    ("https://www.baidu.com/link?url=Xv2dQ0bN6Yb8f5Jv7e&wd=&eqid=f0a1b2c3000d4e5f",
     "search", "baidu.com", "baidu", None, None),
    ("https://baike.baidu.com/item/%E5%AE%A2%E6%9C%8D", "referral", "baike.baidu.com",
     None, None, None),
    # --- Yahoo ---------------------------------------------------------------------------------
    ("https://search.yahoo.com/search?p=help+desk+software&fr=yfp-t&ei=UTF-8",
     "search", "search.yahoo.com", "yahoo", "help desk software", None),
    ("https://uk.search.yahoo.com/search?p=live+chat&fr=yfp-t", "search", "uk.search.yahoo.com",
     "yahoo", "live chat", None),
    ("https://search.yahoo.co.jp/search?p=%E6%9D%B1%E4%BA%AC+%E3%83%A9%E3%83%BC%E3%83%A1%E3%83%B3"
     "&ei=UTF-8", "search", "search.yahoo.co.jp", "yahoo", "東京 ラーメン", None),
    ("https://r.search.yahoo.com/_ylt=AwrE1x;_ylu=Y29sbw--/RV=2/RE=1700000000/RO=10/"
     "RU=https%3a%2f%2fshop.example.com%2f/RK=2/RS=abc-", "search", "r.search.yahoo.com",
     "yahoo", None, None),
    # --- DuckDuckGo, Yandex, Sogou, 360 ----------------------------------------------------------
    ("https://duckduckgo.com/", "search", "duckduckgo.com", "duckduckgo", None, None),
    ("https://html.duckduckgo.com/html/?q=open+source+helpdesk", "search", "html.duckduckgo.com",
     "duckduckgo", "open source helpdesk", None),
    ("https://yandex.ru/search/?text=%D0%BA%D1%83%D0%BF%D0%B8%D1%82%D1%8C+%D1%81%D0%BB%D0%BE%D0%BD"
     "%D0%B0&lr=213", "search", "yandex.ru", "yandex", "купить слона", None),
    ("https://yandex.ru/yandsearch?text=%EA%F3%EF%E8%F2%FC+%F1%EB%EE%ED%E0",   # cp1251
     "search", "yandex.ru", "yandex", "купить слона", None),
    ("https://yandex.com.tr/search/?text=m%C3%BC%C5%9Fteri+hizmetleri", "search", "yandex.com.tr",
     "yandex", "müşteri hizmetleri", None),
    ("https://ya.ru/", "search", "ya.ru", "yandex", None, None),
    ("https://www.sogou.com/web?query=%C4%E3%BA%C3&_asf=www.sogou.com&ie=gbk",
     "search", "sogou.com", "sogou", "你好", None),
    ("https://www.sogou.com/web?query=%BF%CD%B7%FE%CF%B5%CD%B3", "search", "sogou.com", "sogou",
     "客服系统", None),
    ("https://m.sogou.com/web/searchList.jsp?keyword=%E4%BD%A0%E5%A5%BD", "search", "m.sogou.com",
     "sogou", "你好", None),
    ("https://www.so.com/s?ie=utf-8&src=360sou_newhome&q=%E5%9C%A8%E7%BA%BF%E5%AE%A2%E6%9C%8D",
     "search", "so.com", "so360", "在线客服", None),
    ("https://m.so.com/s?q=%E4%BD%A0%E5%A5%BD&src=home", "search", "m.so.com", "so360", "你好", None),
    # --- Naver, Seznam, Ecosia and a few more ---------------------------------------------------
    ("https://search.naver.com/search.naver?where=nexearch&sm=top_hty&fbm=1&ie=utf8&query=%EA%B3"
     "%A0%EA%B0%9D+%EC%83%81%EB%8B%B4", "search", "search.naver.com", "naver", "고객 상담", None),
    ("https://search.seznam.cz/?q=z%C3%A1kaznick%C3%A1+podpora&oq=z%C3%A1k", "search",
     "search.seznam.cz", "seznam", "zákaznická podpora", None),
    ("https://www.ecosia.org/search?method=index&q=Kundenservice+Software", "search", "ecosia.org",
     "ecosia", "Kundenservice Software", None),
    ("https://search.brave.com/search?q=chat+widget&source=web", "search", "search.brave.com",
     "brave", "chat widget", None),
    ("https://www.qwant.com/?q=support+client&t=web", "search", "qwant.com", "qwant",
     "support client", None),
    ("https://blog.naver.com/somebody/223000000000", "referral", "blog.naver.com", None, None, None),
    # --- Social -----------------------------------------------------------------------------
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example.com%2F&h=AT0abc", "social",
     "l.facebook.com", None, None, "facebook"),
    ("https://m.facebook.com/", "social", "m.facebook.com", None, None, "facebook"),
    ("https://t.co/AbCdEf1234", "social", "t.co", None, None, "twitter"),
    ("https://x.com/", "social", "x.com", None, None, "twitter"),
    ("https://www.linkedin.com/feed/", "social", "linkedin.com", None, None, "linkedin"),
    ("https://lnkd.in/eXaMpLe", "social", "lnkd.in", None, None, "linkedin"),
    ("https://weibo.com/u/1234567890", "social", "weibo.com", None, None, "weibo"),
    ("https://mp.weixin.qq.com/s/AbCdEfGh", "social", "mp.weixin.qq.com", None, None, "wechat"),
    ("https://l.instagram.com/?u=https%3A%2F%2Fshop.example.com", "social", "l.instagram.com",
     None, None, "instagram"),
    ("https://www.youtube.com/", "social", "youtube.com", None, None, "youtube"),
    ("https://out.reddit.com/t3_abc?url=https%3A%2F%2Fshop.example.com", "social",
     "out.reddit.com", None, None, "reddit"),
    ("https://www.tiktok.com/", "social", "tiktok.com", None, None, "tiktok"),
    ("https://www.douyin.com/", "social", "douyin.com", None, None, "douyin"),
    ("https://link.zhihu.com/?target=https%3A//shop.example.com", "social", "link.zhihu.com",
     None, None, "zhihu"),
    ("android-app://com.google.android.googlequicksearchbox/https/www.google.com", "search", None,
     "google", None, None),
    # --- Plain referrals, internal, direct ----------------------------------------------------
    ("https://news.ycombinator.com/item?id=40000000", "referral", "news.ycombinator.com",
     None, None, None),
    ("https://www.producthunt.com/posts/switchboard", "referral", "producthunt.com",
     None, None, None),
    ("https://chatgpt.com/", "referral", "chatgpt.com", None, None, None),
    ("https://xn--bcher-kva.de/angebote", "referral", "bücher.de", None, None, None),
    ("https://WWW.Example.ORG:8443/path", "referral", "example.org", None, None, None),
    ("https://user:secret@partner.example.net/page", "referral", "partner.example.net",
     None, None, None),
    ("http://[2001:db8::1]:8080/page", "referral", "2001:db8::1", None, None, None),
    ("https://shop.example.com/cart", "internal", "shop.example.com", None, None, None),
    ("https://www.shop.example.com/", "internal", "shop.example.com", None, None, None),
    ("https://help.example.com:443/articles/12", "internal", "help.example.com", None, None, None),
    (None, "direct", None, None, None, None),
    ("", "direct", None, None, None, None),
    ("   ", "direct", None, None, None, None),
    ("about:blank", "direct", None, None, None, None),
]


@pytest.mark.parametrize("referrer,kind,domain,engine,terms,social", REFERRERS)
def test_referrer_table(referrer, kind, domain, engine, terms, social):
    source = parse_source(LANDING, referrer, OWN)
    assert (source.kind, source.referrer_domain, source.search_engine, source.search_terms,
            source.social_network) == (kind, domain, engine, terms, social)
    assert source.landing_page == "/pricing"


def test_table_is_large_enough():
    assert len(REFERRERS) >= 40


def test_result_is_a_frozen_dataclass():
    source = parse_source(LANDING, None)
    assert isinstance(source, Source) and source == Source(landing_page="/pricing")
    with pytest.raises(FrozenInstanceError):
        source.kind = "search"


def test_landing_host_counts_as_own_even_without_own_hosts():
    assert parse_source(LANDING, "https://shop.example.com/faq").kind == "internal"
    assert parse_source(LANDING, "https://shop.example.com/faq", "shop.example.com").kind == "internal"


def test_own_hosts_are_normalised():
    own = {"HELP.Example.com:8080", "https://www.docs.example.com/", 42, None}
    assert parse_source(LANDING, "https://help.example.com/", own).kind == "internal"
    assert parse_source(LANDING, "https://docs.example.com/a", own).kind == "internal"
    assert parse_source(LANDING, "https://other.example.com/", own).kind == "referral"


def test_search_terms_are_cleaned_and_capped():
    long_terms = "word+" * 200
    source = parse_source(LANDING, f"https://www.bing.com/search?q=++a%09%0A%E3%80%80b+{long_terms}")
    assert source.search_terms.startswith("a b word word")
    assert len(source.search_terms) <= MAX_TERMS_CHARS
    assert "\t" not in source.search_terms and "\n" not in source.search_terms
    bidi = parse_source(LANDING, "https://duckduckgo.com/?q=abc%E2%80%AEgpj.exe")
    assert bidi.search_terms == "abc gpj.exe"


def test_unbalanced_escapes_in_terms_do_not_raise():
    source = parse_source(LANDING, "https://www.google.com/search?q=100%25+%ZZ+%E4%BD&x=%")
    assert source.search_engine == "google"
    assert source.search_terms == "100% %ZZ"


def test_valid_utf8_wins_over_a_stale_declared_charset():
    source = parse_source(LANDING, "https://www.baidu.com/s?ie=gbk&wd=%E4%BD%A0%E5%A5%BD")
    assert source.search_terms == "你好"


def test_terms_in_fragment():
    source = parse_source(LANDING, "https://www.google.com/#q=chat+support")
    assert source.search_terms == "chat support"


# --- UTM ------------------------------------------------------------------------------------

def test_utm_fields_and_landing_page_stripping():
    landing = ("https://shop.example.com/pricing/plans?plan=pro&utm_source=newsletter&utm_medium="
               "email&utm_campaign=spring%20sale&utm_content=hero+button&ref=abc#features")
    source = parse_source(landing, None)
    assert source.kind == "campaign"
    assert (source.utm_source, source.utm_medium, source.utm_campaign, source.utm_content,
            source.utm_term) == ("newsletter", "email", "spring sale", "hero button", None)
    assert source.landing_page == "/pricing/plans?plan=pro&ref=abc"
    assert source.search_terms is None


def test_utm_term_fills_search_terms_when_referrer_has_none():
    landing = ("https://shop.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"
               "&utm_term=%E5%9C%A8%E7%BA%BF%E5%AE%A2%E6%9C%8D&gclid=Cj0KCQ")
    source = parse_source(landing, "https://www.google.com/")
    assert source.kind == "campaign"
    assert source.search_engine == "google" and source.referrer_domain == "google.com"
    assert source.search_terms == "在线客服" == source.utm_term
    assert source.landing_page == "/?gclid=Cj0KCQ"


def test_referrer_terms_win_over_utm_term():
    source = parse_source("https://shop.example.com/?utm_source=bing&utm_term=brand",
                          "https://www.bing.com/search?q=real+query")
    assert source.search_terms == "real query" and source.utm_term == "brand"


def test_utm_term_alone_is_not_a_campaign():
    source = parse_source("https://shop.example.com/?utm_term=chat", None)
    assert source.kind == "direct" and source.search_terms == "chat"
    assert source.landing_page == "/"


def test_internal_navigation_keeps_internal_kind():
    source = parse_source("https://shop.example.com/?utm_source=x", "https://shop.example.com/")
    assert source.kind == "internal" and source.utm_source == "x"


def test_landing_page_variants():
    assert parse_source("https://shop.example.com", None).landing_page == "/"
    assert parse_source("https://shop.example.com/a?utm_source=x#top", None).landing_page == "/a"
    assert parse_source("/docs?page=2&UTM_Medium=social", None).landing_page == "/docs?page=2"
    # Never a scheme-relative path that a browser would read as another host.
    assert parse_source("https://shop.example.com//evil.com/x", None).landing_page == "/evil.com/x"
    assert parse_source("https://shop.example.com/\\evil.com", None).landing_page == "/evil.com"
    assert parse_source("//evil.com/x", None).landing_page is None


# --- bad input ------------------------------------------------------------------------------

def test_megabyte_urls_are_truncated_fast():
    huge_landing = "https://shop.example.com/p?x=" + "a" * (2 * 1024 * 1024)
    huge_referrer = "https://www.google.com/search?q=" + "%E4%BD%A0" * 300_000
    started = time.perf_counter()
    source = parse_source(huge_landing, huge_referrer)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.05
    assert source.search_engine == "google"
    assert len(source.search_terms) <= MAX_TERMS_CHARS and set(source.search_terms) == {"你"}
    assert source.landing_page.startswith("/p?x=aaa") and len(source.landing_page) <= MAX_LANDING_CHARS


def test_megabyte_host_is_rejected():
    source = parse_source(LANDING, "https://" + "a" * (2 * 1024 * 1024) + ".com/")
    assert source.kind == "direct" and source.referrer_domain is None


@pytest.mark.parametrize("url", [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " \tjava\nscript:alert(1)",
    "\x00javascript:alert(1)",
    "javascript://www.google.com/%0Aalert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://files.example.com/",
    "chrome-extension://abcdef/popup.html",
    "android-app://com.unknown.app/",
])
def test_dangerous_schemes_count_as_no_url(url):
    assert parse_source(LANDING, url) == Source(kind="direct", landing_page="/pricing")
    assert parse_source(url, None) == Source(kind="direct", landing_page=None)


@pytest.mark.parametrize("value", [
    None, 0, 3.14, [], {}, object(), b"", "x", "%", "%%%", "http://", "https://",
    "http://[::1", "http://[not-an-ip]/", "http://exa mple.com/", "http://exa<mple.com/",
    "https://host:99999999999/", "https://host:port/", "http://%ZZ/", "http://%E4/",
    "https://xn--/", "https://xn--zz-b-c-invalid/", "http:javascript:alert(1)", "?q=1", "#x",
    "https://" + "." * 300, "https://evil.com\\@www.google.com/search?q=x",
])
def test_garbage_never_raises(value):
    source = parse_source(value, value, value)
    assert source.kind in ("direct", "referral", "internal")
    assert source.search_engine is None
    if source.referrer_domain is not None:
        assert source.referrer_domain == source.referrer_domain.strip().lower()
        assert "@" not in source.referrer_domain and ":" not in source.referrer_domain


def test_backslash_cannot_smuggle_a_host():
    source = parse_source(LANDING, "https://evil.com\\@www.google.com/search?q=x")
    assert source.referrer_domain == "evil.com" and source.search_engine is None


def test_bytes_input_is_decoded():
    source = parse_source(b"https://shop.example.com/a?utm_source=mail",
                          "https://www.baidu.com/s?wd=%E4%BD%A0%E5%A5%BD".encode())
    assert (source.kind, source.search_engine, source.search_terms, source.landing_page) == (
        "campaign", "baidu", "你好", "/a")


def test_control_characters_are_stripped():
    source = parse_source("https://shop.example.com/a\x00b?c=d\x1b[31m",
                          "https://www.goo\x00gle.com/search?q=a%00b%1Bc")
    assert source.search_engine == "google" and source.search_terms == "a b c"
    assert source.landing_page == "/ab?c=d[31m"


# --- user agents ----------------------------------------------------------------------------

UAS = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36", "desktop", "Chrome", "Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Safari/605.1.15", "desktop", "Safari", "Mac OS X"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "mobile", "Mobile Safari", "iOS"),
    ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", "mobile", "Samsung Internet",
     "Android"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN",
     "mobile", "WeChat Browser", "iOS"),
    ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36", "tablet", "Chrome", "Android"),
    ("Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/16.0 Mobile/15E148 Safari/604.1", "tablet", "Mobile Safari", "iOS"),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot",
     "Googlebot", None),
    ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
     "Gecko) Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
     "+http://www.google.com/bot.html)", "bot", "Googlebot", "Android"),
    ("Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", "bot",
     "Baiduspider", None),
]


@pytest.mark.parametrize("ua,device_type,browser,os_name", UAS)
def test_user_agents(ua, device_type, browser, os_name):
    assert parse_user_agent(ua) == Device(device_type=device_type, browser=browser, os=os_name)


@pytest.mark.parametrize("ua", [None, "", "   ", 42, b"\xff\xfe", "garbage", "\x00\x01"])
def test_unknown_user_agents(ua):
    device = parse_user_agent(ua)
    assert device.device_type == "unknown" and device.browser is None


def test_huge_user_agent_is_capped():
    ua = UAS[0][0] + " " + "X" * (2 * 1024 * 1024)
    device = parse_user_agent(ua)
    assert device.device_type == "desktop" and device.browser == "Chrome"


# --- channels -------------------------------------------------------------------------------

@pytest.mark.parametrize("device_type,declared,channel", [
    ("desktop", None, "web"),
    ("mobile", None, "mobile_web"),
    ("tablet", "web", "mobile_web"),
    ("desktop", "mobile_web", "web"),
    ("unknown", None, "web"),
    ("bot", "", "web"),
    (None, "mobile_web", "mobile_web"),
    ("mobile", "app", "app"),
    ("desktop", "API", "api"),
    ("unknown", "sms", "sms"),
    ("mobile", "phone", "phone"),
    ("desktop", "bogus", "web"),
    ("mobile", 123, "mobile_web"),
])
def test_channel_for(device_type, declared, channel):
    assert channel_for(device_type, declared) == channel


def test_channel_from_user_agent():
    assert channel_for(parse_user_agent(UAS[2][0]).device_type, "web") == "mobile_web"
    assert channel_for(parse_user_agent(UAS[0][0]).device_type, None) == "web"
