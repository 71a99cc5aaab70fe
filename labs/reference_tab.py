"""The Reference tab: the course's reference pages (adaptation spectrum, PEFT methods, ...).

Component ids: reference.nav (Radio of page ids), reference.body.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from labs.identity import viewer_of
from tutor.advisors.model_card import CARD_PAGE, CARD_TITLE, card_markdown
from tutor.core import Core
from tutor.local_models.lab import LIVE_TABLE_MARKER


@dataclass
class ReferenceTab:
    nav: gr.Radio
    body: gr.Markdown


def build_reference_tab(core: Core) -> ReferenceTab:
    pages = core.course.reference
    card = card_markdown(core.settings)  # the advisor's own model card, a worked example of the checklist
    choices = [(page.title, page.id) for page in pages] + ([(CARD_TITLE, CARD_PAGE)] if card else [])
    with gr.Row():
        with gr.Column(scale=1, min_width=240):
            nav = gr.Radio(
                choices=choices,
                value=pages[0].id if pages else None,
                label="Reference pages",
            )
        with gr.Column(scale=4):
            body = gr.Markdown(core.page_markdown(pages[0].id) if pages else "No reference pages.", header_links=True)

    def open_reference(page_id: str, request: gr.Request) -> str:
        """Show a reference page. Inputs: reference.nav. Outputs: reference.body. The local-models
        page's quantization table is the learner's own latest measurements."""
        if page_id == CARD_PAGE and card:
            return card
        page = core.course.get(page_id)
        if page is None or page.meta.kind != "reference":
            raise gr.Error(f"There is no reference page {page_id!r}.")
        text = core.page_markdown(page_id)
        if LIVE_TABLE_MARKER in text:
            text = text.replace(LIVE_TABLE_MARKER, core.local_models.live_table(viewer_of(core, request).username))
        return text

    nav.change(open_reference, inputs=nav, outputs=body, api_name="open_reference")
    return ReferenceTab(nav=nav, body=body)
