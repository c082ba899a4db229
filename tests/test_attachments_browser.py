"""Message kinds in a real browser: a visitor sends an image and a PDF from the widget (file button
and paste), the agent sees the image inline (it really decodes) and downloads the PDF; emoji from
both pickers and Markdown formatting render as elements on both sides."""
import pytest

from tests import sample_files
from tests.conftest import browser_log_in

pytestmark = pytest.mark.browser

PASTE_IMAGE = """async ([selector, base64]) => {
  const host = document.querySelector('#switchboard-widget').shadowRoot;
  const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], 'pasted.png', {type: 'image/png'}));
  host.querySelector(selector).dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true}));
}"""


def test_widget_image_and_pdf_reach_the_console_and_formatting_and_emoji_render(
        tmp_path, server, make_tenant, page_for):
    import base64

    from playwright.sync_api import expect

    tenant = make_tenant()
    agent = page_for()
    browser_log_in(agent, server, tenant, tenant.agents[0])
    visitor = page_for()
    visitor.goto(f"{server.url}/demo/{tenant.slug}")
    visitor.click("[data-sb=launcher]")

    # Emoji picker inserts at the caret; Markdown is sent as typed and comes back formatted.
    visitor.fill("[data-sb=input]", "Hi  **there**, see https://example.test/help")
    visitor.locator("[data-sb=input]").evaluate("input => input.setSelectionRange(3, 3)")
    visitor.click("[data-sb=emoji-open]")
    visitor.locator("[data-sb=emoji-grid] button", has_text="👋").click()
    expect(visitor.locator("[data-sb=emoji-grid]")).to_be_hidden()
    expect(visitor.locator("[data-sb=input]")).to_have_value("Hi 👋 **there**, see https://example.test/help")
    visitor.press("[data-sb=input]", "Enter")
    mine = visitor.locator("[data-sb=message]").first
    expect(mine.locator("strong")).to_have_text("there")
    expect(mine.locator("a")).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(mine).to_contain_text("Hi 👋 there")

    image_path, pdf_path = tmp_path / "sunset.png", tmp_path / "Terms of sale.pdf"
    image_path.write_bytes(sample_files.png(24, 16))
    pdf_path.write_bytes(sample_files.pdf())
    visitor.set_input_files("[data-sb=file-input]", [str(image_path)])
    expect(visitor.locator("[data-sb=attachment] img.thumb")).to_have_count(1)
    visitor.set_input_files("[data-sb=file-input]", [str(pdf_path)])
    expect(visitor.locator("[data-sb=attachment] .file-card")).to_contain_text("Terms of sale.pdf")
    visitor.evaluate(PASTE_IMAGE, ["[data-sb=input]", base64.b64encode(sample_files.png(8, 8)).decode()])
    expect(visitor.locator("[data-sb=attachment] img.thumb")).to_have_count(2)
    # The visitor's own images load through the widget's key and token.
    visitor.wait_for_function("""() => [...document.querySelector('#switchboard-widget').shadowRoot
        .querySelectorAll('img.thumb')].every(img => img.complete && img.naturalWidth > 0)""")

    agent.locator("#conversation-list [data-conversation-id]").click()
    expect(agent.locator("#messages .message")).to_have_count(4)
    expect(agent.locator("#messages .message strong")).to_have_text("there")
    link = agent.locator("#messages a[href='https://example.test/help']")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    thumbs = agent.locator("#messages img.thumb")
    expect(thumbs).to_have_count(2)
    agent.wait_for_function("""() => [...document.querySelectorAll('#messages img.thumb')]
        .every(img => img.complete && img.naturalWidth > 0)""")
    assert thumbs.first.evaluate("img => img.naturalWidth") == 24
    # The thumbnail opens the image full size.
    with agent.expect_popup() as popup_info:
        thumbs.first.click()
    full = popup_info.value
    full.wait_for_load_state()
    assert full.evaluate("document.images[0].naturalWidth") == 24

    card = agent.locator("#messages .file-card")
    expect(card).to_contain_text("Terms of sale.pdf")
    with agent.expect_download() as download_info:
        card.click()
    download = download_info.value
    assert download.suggested_filename == "Terms of sale.pdf"
    assert open(download.path(), "rb").read() == sample_files.pdf()

    # The agent answers with an emoji from the console's picker and formatting.
    agent.fill("#composer", "Thanks! *Received* both files")
    agent.locator("#composer").evaluate("input => input.setSelectionRange(6, 6)")
    agent.click("#emoji-open")
    agent.locator("#emoji-grid button", has_text="👍").click()
    expect(agent.locator("#composer")).to_have_value("Thanks👍! *Received* both files")
    agent.click("#send")
    reply = visitor.locator("[data-sb=message].from-agent")
    expect(reply.locator("em")).to_have_text("Received")
    expect(reply).to_contain_text("Thanks👍!")

    # And a file from the console reaches the widget as a card.
    agent.set_input_files("#file-input", [str(pdf_path)])
    expect(visitor.locator("[data-sb=message].from-agent .file-card")).to_contain_text("Terms of sale.pdf")
