"""Reply: write decided parts up for people.

`compose` numbers citations and writes the markdown reply of an `Answer`; `present`
renders answers and articles as escaped HTML for the chat; `markdown` is the one
escaping of article and user text shown inside markdown; `export` writes a conversation
as Markdown; `examples` turns a corpus's headlines into questions to offer.

The names below are what the shells (the web chat, the command line) format with, as
`qa.reply.chat_markdown(answer)`: everything from an article or a user is escaped;
`plain_text` undoes that for a terminal's pipe or a log file.
"""

from qa.reply.cards import article_page, articles_html, evidence_html
from qa.reply.export import conversation_markdown
from qa.reply.markdown import escape_markdown, plain_text
from qa.reply.present import chat_markdown, confidence_label, explanation

__all__ = [
    "article_page", "articles_html", "chat_markdown", "confidence_label", "conversation_markdown", "escape_markdown", "evidence_html",
    "explanation", "plain_text",
]
