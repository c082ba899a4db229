"""The Markdown subset, the shared nh3 sanitiser, the file-type sniffer and file-name cleaning:
pure functions, checked on their own (the HTTP and browser tests show them end to end)."""
import io
import zipfile

import pytest

from saas.services.attachments import clean_name
from saas.services.file_types import sniff, type_for_extension
from saas.services.knowledge_base import sanitise_answer
from saas.services.rich_text import formatted_html, render_message
from tests import sample_files

LINK = 'target="_blank" rel="noopener noreferrer nofollow"'


@pytest.mark.parametrize(("text", "html"), [
    ("**bold** and __strong__", "<p><strong>bold</strong> and <strong>strong</strong></p>"),
    ("*italic* and _also_", "<p><em>italic</em> and <em>also</em></p>"),
    ("use `a<b`", "<p>use <code>a&lt;b</code></p>"),
    ("```\n<b>x</b>\n  indented\n```", "<pre><code>&lt;b&gt;x&lt;/b&gt;\n  indented</code></pre>"),
    ("- one\n- two\n\n1. first\n2) second", "<ul><li>one</li><li>two</li></ul><ol><li>first</li><li>second</li></ol>"),
    ("line one\nline two\n\nnext", "<p>line one<br>line two</p><p>next</p>"),
    ("[docs](https://example.test/d?a=1&b=2)", f'<p><a href="https://example.test/d?a=1&amp;b=2" {LINK}>docs</a></p>'),
    ("go to https://example.test/x.", f'<p>go to <a href="https://example.test/x" {LINK}>https://example.test/x</a>.</p>'),
    ("mail mailto:help@example.test", f'<p>mail <a href="mailto:help@example.test" {LINK}>mailto:help@example.test</a></p>'),
    ("2*3*4 and snake_case_name", "<p>2*3*4 and snake_case_name</p>"),
])
def test_the_markdown_subset(text, html):
    assert render_message(text) == html


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<img src=x onerror=alert(1)>",
])
def test_hostile_text_stays_text_and_only_safe_links_survive(text):
    html = render_message(text)
    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert "javascript:" not in html.split(">", 1)[0]  # never inside a tag
    assert formatted_html(text) is None  # nothing to format: the client shows the plain text


def test_plain_text_needs_no_html_but_formatting_does():
    assert formatted_html("just words, even <b>these</b>") is None
    assert formatted_html("a *word*") == "<p>a <em>word</em></p>"


@pytest.mark.parametrize("text", [
    "hello there", "line one\nline two", "3 items - 2 left", " - starts a list", "1. first", "10) tenth",
    "a *word*", "snake_case", "`x`", "[docs](https://example.test)", "see https://example.test", "time: 10",
    "mailto:help@example.test", "+ plus item", "1.5 apples", "<b>tag</b> & ampersand", "émoji 😀 ok",
])
def test_the_plain_text_shortcut_never_hides_formatting(text):
    """formatted_html skips the sanitiser for text with no formatting character; it must agree
    with rendering in full every time."""
    rendered = render_message(text)
    full = rendered if any(tag in rendered for tag in ("<strong", "<em", "<code", "<a ", "<ul", "<ol", "<pre")) else None
    assert formatted_html(text) == full


def test_knowledge_base_answers_use_the_same_sanitiser():
    cleaned = sanitise_answer('<p onclick="x()">Hi <a href="javascript:alert(1)">bad</a> '
                              '<a href="https://example.test">good</a><script>alert(1)</script></p>')
    rel = 'rel="noopener noreferrer nofollow"'
    assert cleaned == f'<p>Hi <a {rel}>bad</a> <a href="https://example.test" {rel}>good</a></p>'


def _zip(names) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "kind"), [
    (sample_files.png(7, 3), "png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
     b"\xff\xc0\x00\x11\x08\x00\x09\x00\x0c\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9", "jpeg"),
    (b"GIF89a\x05\x00\x06\x00" + b"\x00" * 20, "gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 20, "webp"),
    (sample_files.pdf(), "pdf"),
    ("naïve text, 中文\n".encode(), "txt"),
    (_zip(["[Content_Types].xml", "word/document.xml"]), "docx"),
    (_zip(["[Content_Types].xml", "xl/workbook.xml"]), "xlsx"),
    (_zip(["readme.txt"]), "zip"),
])
def test_sniffing_reads_the_bytes(data, kind):
    assert sniff(data).file_type.key == kind


def test_sniffing_reads_image_sizes_and_refuses_programs_and_markup():
    assert (sniff(sample_files.png(7, 3)).width, sniff(sample_files.png(7, 3)).height) == (7, 3)
    jpeg = sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
                 b"\xff\xc0\x00\x11\x08\x00\x09\x00\x0c\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9")
    assert (jpeg.width, jpeg.height) == (12, 9)
    for program in (sample_files.ELF, sample_files.WINDOWS_EXE, sample_files.SHELL_SCRIPT):
        assert sniff(program).is_executable and sniff(program).file_type is None
    for markup in (sample_files.SVG, sample_files.HTML, b"\xef\xbb\xbf  <svg/>", b"<!-- x --><script>"):
        assert sniff(markup).is_markup and sniff(markup).file_type is None
    assert sniff(bytes(range(256))).file_type is None


def test_file_names_lose_folders_and_invisible_characters_and_keep_their_extension():
    assert clean_name("C:\\Users\\me\\..\\report.pdf") == "report.pdf"
    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name("evil\u202egnp.exe") == "evilgnp.exe"
    assert clean_name("tab\tand\nnewline.txt") == "tab and newline.txt"
    assert clean_name("   ") == "file" and clean_name(None) == "file" and clean_name("...") == "file"
    long = clean_name("x" * 300 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")
    assert type_for_extension("Photo.JPG").key == "jpeg" and type_for_extension("noextension") is None
