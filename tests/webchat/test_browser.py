"""The web chat in a real headless Chromium (Debian's /usr/bin/chromium), driven by Playwright.

Screenshots go to test-artifacts/ at the repository root (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest

from conftest_app import REPO, RunningApp, running_app

DATA = Path(__file__).resolve().parents[1] / "data"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts"
ANSWER_TIMEOUT_MS = 60_000
INDEX_TIMEOUT_MS = 180_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")

SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE = f"""Grimsholt Council Votes On Ferry {SCRIPT}

The Grimsholt council voted on Wednesday to buy a new ferry named Osprey Lantern. {SCRIPT} Residents cheered. <a href="javascript:alert(1)">x</a> <img src=x onerror="window.__pwned=2">

The ferry will carry ninety cars between Grimsholt and the mainland.
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    # a saved news page with its <meta> fields: outlet, date and a relative day to resolve
    page = {"tormund-herald.html": (DATA / "tormund-herald.html").read_text(encoding="utf-8")}
    with running_app(tmp_path_factory.mktemp("browser-app"), extra_articles=page) as running:
        yield running


@pytest.fixture(scope="module")
def dialogs() -> list[str]:
    """Messages of any alert/confirm the page opened (there must be none)."""
    return []


@pytest.fixture(scope="module")
def browser() -> Iterator["sync_api.Browser"]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: "sync_api.Browser", app: RunningApp, dialogs: list[str]) -> Iterator["sync_api.Page"]:
    """A fresh tab per test, so every test stands alone and the tests pass in any order."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(app.url)
        page.locator("#qa-question textarea").wait_for()
        yield page
    finally:
        page.close()


def upload_ferry_article(page: "sync_api.Page", folder: Path) -> None:
    """Add the hostile ferry article through the Articles tab (adding it again changes nothing, and says so)."""
    article = folder / "grimsholt ferry.txt"
    article.write_text(HOSTILE, encoding="utf-8")
    page.get_by_role("tab", name="Articles").click()
    page.locator("#qa-upload input[type=file]").set_input_files(str(article))
    page.get_by_role("button", name="Add to the corpus").click()
    status = re.compile(r"Added and indexed|Already in the corpus: grimsholt ferry\.txt .*nothing added")
    sync_api.expect(page.locator("#qa-status")).to_contain_text(status, timeout=INDEX_TIMEOUT_MS)
    page.get_by_role("tab", name="Ask").click()


def ask(page: "sync_api.Page", question: str) -> "sync_api.Locator":
    """Type a question, send it, and return the bot message that answers it."""
    replies = page.locator('#qa-chat [data-testid="bot"]')
    before = replies.count()
    page.locator("#qa-question textarea").fill(question)
    page.locator("#qa-send").click()
    sync_api.expect(replies).to_have_count(before + 1, timeout=ANSWER_TIMEOUT_MS)
    return replies.nth(before)


def new_conversation(page: "sync_api.Page") -> None:
    page.get_by_role("button", name="New conversation").click()
    sync_api.expect(page.locator('#qa-chat [data-testid="bot"]')).to_have_count(0)


def test_example_question_shows_answer_and_highlighted_source(page: "sync_api.Page") -> None:
    expect = sync_api.expect
    # the examples are made from the corpus's headlines, the newest article's first
    examples = page.locator("#qa-examples button")
    expect(examples.first).to_have_text("When did the Tormund harbour freeze over?")
    assert any("pledge" in label for label in examples.all_inner_texts())  # and the seed articles'
    pledge = page.get_by_role("button", name="Who accepted Boko Haram's pledge of allegiance?")
    pledge.click()
    reply = page.locator('#qa-chat [data-testid="bot"]').first
    expect(reply).to_contain_text("Islamic State", timeout=ANSWER_TIMEOUT_MS)
    expect(reply).to_contain_text("[1]")
    expect(reply).to_contain_text("confidence")
    expect(page.locator('#qa-chat [data-testid="user"]').first).to_have_text(pledge.inner_text())

    evidence = page.locator("#qa-evidence")
    expect(evidence.locator(".qa-answered")).to_be_visible()
    first_card = evidence.locator('.qa-card[data-number="1"]')
    expect(first_card).to_be_visible()
    mark = first_card.locator(".qa-context mark")
    expect(mark).to_be_visible()
    expect(mark).to_contain_text("accepted")
    # the highlighted sentence sits inside its paragraph, and the card names the article
    assert first_card.locator(".qa-context").inner_text().strip() != ""
    expect(first_card.locator(".qa-doc")).to_have_text(re.compile(r"^\d{3}_[0-9a-f]{16}$"))
    page.screenshot(path=str(ARTIFACTS / "browser-1-answer.png"), full_page=True)


def test_the_filter_hints_are_the_corpus_date_range_and_outlets(page: "sync_api.Page") -> None:
    page.locator("#qa-filter").get_by_text("Filter articles").click()
    low = page.locator("#qa-from textarea, #qa-from input").first
    sync_api.expect(low).to_have_attribute("placeholder", "2015-03-13")  # the one dated article's day
    sync_api.expect(page.locator("#qa-filter")).to_contain_text("published 2015-03-13 to 2015-03-13")
    page.locator("#qa-outlets input").click()
    sync_api.expect(page.get_by_role("option", name="The Tormund Herald")).to_be_visible()


def test_follow_up_in_the_chat_uses_the_conversation(page: "sync_api.Page") -> None:
    ask(page, "Who accepted the pledge and when?")
    reply = ask(page, "And who is their leader?")
    sync_api.expect(reply).to_contain_text("Baghdadi")
    sync_api.expect(page.locator("#qa-evidence")).to_contain_text("Baghdadi")
    page.screenshot(path=str(ARTIFACTS / "browser-2-follow-up.png"), full_page=True)
    # clicking the earlier reply brings its own sources back
    page.locator('#qa-chat [data-testid="bot"]').first.click()
    sync_api.expect(page.locator("#qa-evidence .qa-card mark").first).to_contain_text("pledge")


def test_not_found_looks_different_and_lists_nearest_passages(page: "sync_api.Page") -> None:
    new_conversation(page)
    reply = ask(page, "zzqx blorf vlim?")
    sync_api.expect(reply.locator("blockquote")).to_contain_text("Not in these articles")
    evidence = page.locator("#qa-evidence")
    sync_api.expect(evidence.locator(".qa-notfound")).to_be_visible()
    sync_api.expect(evidence.locator(".qa-answered")).to_have_count(0)
    sync_api.expect(evidence).to_contain_text("Nearest passages")
    sync_api.expect(evidence.locator(".qa-card mark").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "browser-3-not-found.png"), full_page=True)


def test_uploaded_article_with_markup_is_shown_as_text_and_never_runs(
    page: "sync_api.Page", app: RunningApp, dialogs: list[str], tmp_path: Path
) -> None:
    expect = sync_api.expect
    upload_ferry_article(page, tmp_path)
    page.get_by_role("tab", name="Articles").click()
    listing = page.locator("#qa-articles")
    expect(listing).to_contain_text(f"Grimsholt Council Votes On Ferry {SCRIPT}")
    assert (app.corpus / "grimsholt_ferry.txt").is_file()
    idle = re.compile(r"\bhide\b")  # the progress overlay is gone
    expect(page.locator('#qa-articles [data-testid="status-tracker"]')).to_have_class(idle)
    page.screenshot(path=str(ARTIFACTS / "browser-4-articles.png"), full_page=True)

    page.get_by_role("tab", name="Ask").click()
    question = "<b>Who</b> voted on Wednesday to buy a new ferry?"
    reply = ask(page, question)
    expect(page.locator('#qa-chat [data-testid="user"]').last).to_have_text(question)
    expect(reply).to_contain_text("Grimsholt Council Votes On Ferry")  # the cited article (the answer: below)
    card = page.locator("#qa-evidence .qa-card").first
    expect(card.locator(".qa-context mark")).to_contain_text("Osprey Lantern")
    expect(card.locator(".qa-context")).to_contain_text(SCRIPT)  # the literal text, visible
    expect(card.locator(".qa-context")).to_contain_text('<a href="javascript:alert(1)">x</a>')
    expect(card.locator(".qa-title")).to_have_text(f"Grimsholt Council Votes On Ferry {SCRIPT}")
    expect(reply).to_contain_text(SCRIPT)  # the quote in the chat reply, as text

    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator('a[href^="javascript:"]').count() == 0
    assert page.locator('#qa-evidence script, #qa-chat script, #qa-articles script, img[src="x"]').count() == 0
    assert dialogs == []
    page.screenshot(path=str(ARTIFACTS / "browser-5-markup-as-text.png"), full_page=True)


def test_article_title_with_markup_is_shown_as_text_in_the_chat(page: "sync_api.Page", tmp_path: Path) -> None:
    upload_ferry_article(page, tmp_path)
    reply = ask(page, "Who voted on Wednesday to buy a new ferry?")
    sync_api.expect(reply).to_contain_text(f"Grimsholt Council Votes On Ferry {SCRIPT}", timeout=5_000)


def test_a_fresh_page_lists_articles_added_since_the_server_started(page: "sync_api.Page", app: RunningApp) -> None:
    (app.corpus / "quarry.txt").write_text(
        "Quarry Reopens In Helmsby\n\nThe Helmsby quarry reopened on Tuesday after a two-year closure.\n",
        encoding="utf-8",
    )
    page.reload()
    page.get_by_role("tab", name="Articles").click()
    sync_api.expect(page.locator("#qa-articles")).to_contain_text("Quarry Reopens In Helmsby")


def test_the_ferry_question_is_answered_with_who_voted(page: "sync_api.Page", tmp_path: Path) -> None:
    upload_ferry_article(page, tmp_path)
    reply = ask(page, "Who voted on Wednesday to buy a new ferry?")
    sync_api.expect(reply.locator("strong").first).to_have_text(re.compile(r"Grimsholt council", re.I), timeout=5_000)


FREEZE = "When did the harbour of Tormund freeze?"


def test_a_saved_page_shows_outlet_date_the_resolved_day_and_the_marked_answer(page: "sync_api.Page") -> None:
    expect = sync_api.expect
    new_conversation(page)
    reply = ask(page, FREEZE)
    expect(reply.locator("strong").first).to_have_text("Thursday (12 March 2015)")
    card = page.locator('#qa-evidence .qa-card[data-number="1"]')
    expect(card.locator(".qa-title")).to_have_text("Tormund Harbour Freezes Over")
    expect(card.locator(".qa-byline")).to_have_text("The Tormund Herald · 13 March 2015")
    expect(card.locator(".qa-context mark")).to_contain_text("The harbour of Tormund froze solid on Thursday")
    expect(card.locator(".qa-context mark .qa-answer")).to_have_text("Thursday")  # the answer, inside the sentence
    expect(card.locator(".qa-context")).not_to_contain_text("Subscribe now")  # page boilerplate was dropped
    page.screenshot(path=str(ARTIFACTS / "browser-6-metadata-and-marked-answer.png"), full_page=True)

    page.get_by_role("tab", name="Articles").click()
    row = page.locator("#qa-articles tr", has_text="Tormund Harbour Freezes Over")
    expect(row).to_contain_text("The Tormund Herald")
    expect(row).to_contain_text("13 March 2015")
    page.screenshot(path=str(ARTIFACTS / "browser-7-articles-with-metadata.png"), full_page=True)


def test_clicking_a_citation_opens_the_whole_article_at_the_passage(page: "sync_api.Page") -> None:
    expect = sync_api.expect
    new_conversation(page)
    ask(page, "Who accepted the pledge and when?")
    card = page.locator('#qa-evidence .qa-card[data-number="2"]')
    article = card.locator("details.qa-full")
    expect(article).not_to_have_attribute("open", "")
    card.locator("a.qa-num").click()
    expect(article).to_have_attribute("open", "")
    passage = card.locator("#qa-passage-2")
    expect(passage).to_be_visible()
    expect(passage).to_be_in_viewport()
    assert passage.inner_text() in card.locator(".qa-article").inner_text()
    assert len(card.locator(".qa-article").inner_text()) > len(card.locator(".qa-context").inner_text())
    page.screenshot(path=str(ARTIFACTS / "browser-8-article-at-passage.png"))


def test_the_conversation_exports_as_markdown_with_its_citations(page: "sync_api.Page") -> None:
    expect = sync_api.expect
    new_conversation(page)
    expect(page.locator("#qa-export")).to_be_disabled()
    ask(page, FREEZE)
    ask(page, "Who accepted the pledge and when?")
    button = page.locator("#qa-export")
    expect(button).to_be_enabled()
    with page.expect_download() as download:
        button.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename == "conversation.md"
    assert "## 1. When did the harbour of Tormund freeze?" in text
    assert "**Thursday (12 March 2015)**" in text
    assert "2. Who accepted the pledge and when?" in text
    herald = next(line for line in text.splitlines() if "The Tormund Herald" in line)
    quote = re.search(r"“(.+)”", herald).group(1)
    start, end = map(int, re.search(r"characters (\d+)–(\d+)", herald).groups())
    assert "13 March 2015" in herald and "(tormund-herald, characters" in herald
    assert end - start == len(quote)  # offsets into the stored text of the page
    assert "<https://herald.example/2015/03/13/harbour-freezes>" in herald
    page.screenshot(path=str(ARTIFACTS / "browser-9-export.png"), full_page=True)
    (ARTIFACTS / "browser-9-conversation.md").write_text(text, encoding="utf-8")


def test_a_chat_on_other_articles_offers_their_own_examples_and_dates(browser: "sync_api.Browser", tmp_path: Path) -> None:
    expect = sync_api.expect
    import qa

    own = qa.corpus_summary(DATA)  # saved pages, feeds and the footbridge reports, of several outlets; no seed article
    with running_app(tmp_path, articles=DATA) as other:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(other.url)
            examples = page.locator("#qa-examples button")
            expect(examples.first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
            labels = examples.all_inner_texts()
            assert labels and not any(word in " ".join(labels) for word in ("pledge", "Boko", "ISIS")), labels
            headline_words = {w.lower() for title in own.headlines for w in re.findall(r"[A-Za-z]{5,}", title)}
            assert any(w in label.lower() for label in labels for w in headline_words), (labels, own.headlines)
            page.locator("#qa-filter").get_by_text("Filter articles").click()
            expect(page.locator("#qa-to textarea, #qa-to input").first).to_have_attribute("placeholder", own.last_published)
            page.screenshot(path=str(ARTIFACTS / "browser-11-other-corpus.png"), full_page=True)
            examples.first.click()
            reply = page.locator('#qa-chat [data-testid="bot"]').first
            expect(reply).to_contain_text("[1]", timeout=ANSWER_TIMEOUT_MS)
            expect(reply).not_to_contain_text("Not in these articles")
        finally:
            page.close()


def test_the_filter_narrows_questions_to_articles_of_a_date_range(page: "sync_api.Page") -> None:
    expect = sync_api.expect
    new_conversation(page)
    page.locator("#qa-filter").get_by_text("Filter articles").click()
    page.locator("#qa-from textarea, #qa-from input").first.fill("2015-03-01")
    ask(page, "Who accepted the pledge and when?")
    docs = page.locator("#qa-evidence .qa-doc")
    expect(docs.first).to_be_visible()
    assert set(docs.all_inner_texts()) == {"tormund-herald"}  # the one article published since
    page.screenshot(path=str(ARTIFACTS / "browser-10-filter.png"), full_page=True)
    page.locator("#qa-from textarea, #qa-from input").first.fill("soon")
    page.locator("#qa-question textarea").fill("Who accepted the pledge?")
    page.locator("#qa-send").click()
    expect(page.get_by_text("published_from must be a date")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)


KEEPER = """Keeper Retires From Varnholt Lighthouse

The Varnholt lighthouse on the island of Osterby was kept for forty-one years by {keeper}, who retired on Tuesday.

The island council will choose a new keeper in the spring.
"""
WHO_KEPT = "Who kept the Varnholt lighthouse for forty-one years?"


def choose(page: "sync_api.Page", dropdown: str, option: str) -> None:
    """Pick `option` in the Gradio dropdown `dropdown` (a CSS selector of its block)."""
    page.locator(f"{dropdown} input").click()
    page.get_by_role("option", name=option).click()


def test_an_article_is_added_opened_replaced_and_deleted_and_the_answers_follow(page: "sync_api.Page", tmp_path: Path) -> None:
    expect = sync_api.expect
    new_conversation(page)
    article = tmp_path / "varnholt keeper.txt"
    article.write_text(KEEPER.format(keeper="Margit Oyelaran"), encoding="utf-8")
    page.get_by_role("tab", name="Articles").click()
    page.locator("#qa-upload input[type=file]").set_input_files(str(article))
    page.get_by_role("button", name="Add to the corpus").click()
    expect(page.locator("#qa-status")).to_contain_text("Added and indexed", timeout=INDEX_TIMEOUT_MS)
    page.get_by_role("tab", name="Ask").click()
    expect(ask(page, WHO_KEPT).locator("strong").first).to_have_text("Margit Oyelaran")

    page.get_by_role("tab", name="Articles").click()  # open it: metadata and the whole text
    choose(page, "#qa-article-choice", "Keeper Retires From Varnholt Lighthouse · varnholt_keeper")
    opened = page.locator("#qa-opened")
    expect(opened.locator(".qa-title")).to_have_text("Keeper Retires From Varnholt Lighthouse")
    expect(opened).to_contain_text("doc id varnholt_keeper · varnholt_keeper.txt")
    expect(opened.locator(".qa-article")).to_contain_text("kept for forty-one years by Margit Oyelaran")
    page.screenshot(path=str(ARTIFACTS / "browser-12-article-opened.png"), full_page=True)

    replacement = tmp_path / "corrected.md"  # another kind: the article keeps its doc id
    replacement.write_text(KEEPER.format(keeper="Tove Lindqvist"), encoding="utf-8")
    page.locator("#qa-replacement input[type=file]").set_input_files(str(replacement))
    page.get_by_role("button", name="Replace", exact=True).click()
    expect(page.locator("#qa-status")).to_contain_text("Replaced varnholt_keeper", timeout=INDEX_TIMEOUT_MS)
    expect(opened.locator(".qa-article")).to_contain_text("by Tove Lindqvist")
    page.get_by_role("tab", name="Ask").click()
    expect(ask(page, WHO_KEPT).locator("strong").first).to_have_text("Tove Lindqvist")

    page.get_by_role("tab", name="Articles").click()
    choose(page, "#qa-article-choice", "Keeper Retires From Varnholt Lighthouse · varnholt_keeper")
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("#qa-status")).to_contain_text("Deleted varnholt_keeper", timeout=INDEX_TIMEOUT_MS)
    expect(page.locator("#qa-articles")).not_to_contain_text("Varnholt")
    page.screenshot(path=str(ARTIFACTS / "browser-13-article-deleted.png"), full_page=True)
    page.get_by_role("tab", name="Ask").click()
    expect(ask(page, WHO_KEPT)).not_to_contain_text("Lindqvist")


def test_a_reply_says_what_its_confidence_and_counts_mean(page: "sync_api.Page") -> None:
    new_conversation(page)
    reply = ask(page, "Which group accepted Boko Haram's pledge of allegiance?")
    sync_api.expect(reply).to_contain_text(re.compile(r"reported by 3 of \d+ articles"))
    searched = re.search(r"reported by 3 of (\d+) articles", reply.inner_text()).group(1)  # other tests add articles
    explained = reply.locator("details.qa-explain")
    explained.locator("summary").click()
    sync_api.expect(explained).to_contain_text("calibrated probability that the answer is right")
    from qa import Settings, abstention_threshold

    under = f"{round(abstention_threshold(Settings()) * 100)}%"  # the shipped model's threshold
    sync_api.expect(explained).to_contain_text(f"under {under} the assistant declines")
    sync_api.expect(explained).to_contain_text(f'"Reported by 3 of {searched} articles": 3 articles state the answer in a cited')
    declined = ask(page, "zzqx blorf vlim?").locator("details.qa-explain")
    declined.locator("summary").click()
    sync_api.expect(declined).to_contain_text(f"Declined: no passage states an answer with a confidence of {under} or more")
    page.screenshot(path=str(ARTIFACTS / "browser-14-explained.png"), full_page=True)


def test_the_chat_chooses_among_the_folders_it_was_started_with(browser: "sync_api.Browser", tmp_path: Path) -> None:
    expect = sync_api.expect
    footbridge = DATA / "footbridge"  # five local reports of one footbridge closure, Feb-Mar 2026
    with running_app(tmp_path, more=(footbridge,)) as both:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(both.url)
            examples = page.locator("#qa-examples button")
            expect(examples.first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
            assert any("pledge" in label for label in examples.all_inner_texts())
            page.locator("#qa-corpus input").click()
            offered = [text.replace("✓", "").strip() for text in page.get_by_role("option").all_inner_texts()]
            assert offered == ["corpus", "footbridge"]  # the folders given, nothing else
            page.get_by_role("option", name="footbridge").click()
            # every example changes, not just the first (a seed example may name neither)
            expect(page.locator("#qa-examples")).not_to_contain_text(re.compile("pledge|Boko|ISIS"), timeout=INDEX_TIMEOUT_MS)
            labels = examples.all_inner_texts()
            assert labels and not any(w in " ".join(labels) for w in ("pledge", "Boko", "ISIS")), labels
            page.locator("#qa-filter").get_by_text("Filter articles").click()
            expect(page.locator("#qa-from textarea, #qa-from input").first).to_have_attribute("placeholder", "2026-02-20")
            expect(page.locator("#qa-to textarea, #qa-to input").first).to_have_attribute("placeholder", "2026-03-11")
            expect(page.locator("#qa-filter")).to_contain_text("published 2026-02-20 to 2026-03-11")
            page.screenshot(path=str(ARTIFACTS / "browser-15-footbridge-examples-and-dates.png"), full_page=True)
            examples.first.click()
            reply = page.locator('#qa-chat [data-testid="bot"]').first
            expect(reply).to_contain_text("[1]", timeout=ANSWER_TIMEOUT_MS)
            expect(reply).not_to_contain_text("Not in these articles")
            cited = page.locator("#qa-evidence .qa-doc").all_inner_texts()
            assert cited and all(not re.match(r"\d{3}_", doc) for doc in cited), cited  # from the footbridge reports
            page.screenshot(path=str(ARTIFACTS / "browser-16-footbridge-answer.png"), full_page=True)
            page.get_by_role("tab", name="Articles").click()
            expect(page.locator("#qa-articles")).to_contain_text("Millbrook footbridge closed after cracks found")
            expect(page.locator("#qa-articles")).not_to_contain_text("Boko Haram")
        finally:
            page.close()
