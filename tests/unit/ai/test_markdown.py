"""A vision model's answer made the material's Markdown dialect, and Markdown's plain words."""

from __future__ import annotations

from protolearn.ai.markdown import from_model_output, plain_text, tidy

# What DeepSeek-OCR answers to "<image>\n<|grounding|>Convert the document to markdown." with the
# special tokens kept: a label and a box before each block, HTML tables, \( \) and \[ \] formulas.
DEEPSEEK_OCR_PAGE = """<|ref|>title<|/ref|><|det|>[[88, 52, 540, 98]]<|/det|>
# Motion with constant acceleration

<|ref|>text<|/ref|><|det|>[[88, 120, 910, 190]]<|/det|>
A body with speed \\(u\\) and acceleration \\(a\\) covers \\(s = ut + \\frac{1}{2}at^2\\).

<|ref|>equation<|/ref|><|det|>[[300, 210, 700, 260]]<|/det|>
\\[v^2 = u^2 + 2as\\]

<|ref|>table<|/ref|><|det|>[[88, 280, 910, 460]]<|/det|>
""" + (
    "<table><tr><td>Quantity</td><td>Symbol</td><td>Unit</td></tr>"
    "<tr><td>Velocity</td><td>v</td><td>m/s</td></tr><tr><td>Acceleration</td><td>a</td><td>m/s&sup2;</td></tr>"
    '<tr><td colspan="2">Time | elapsed</td><td>s</td></tr></table><\uff5cend\u2581of\u2581sentence\uff5c>'
)


def test_deepseek_ocr_output_becomes_markdown_with_tables_and_formulas() -> None:
    markdown = from_model_output(DEEPSEEK_OCR_PAGE)
    assert markdown == (
        "# Motion with constant acceleration\n\n"
        "A body with speed $u$ and acceleration $a$ covers $s = ut + \\frac{1}{2}at^2$.\n\n"
        "$$v^2 = u^2 + 2as$$\n\n"
        "| Quantity | Symbol | Unit |\n"
        "|---|---|---|\n"
        "| Velocity | v | m/s |\n"
        "| Acceleration | a | m/s\u00b2 |\n"
        "| Time \\| elapsed |  | s |"
    )


def test_labels_without_their_special_tokens_are_dropped_too() -> None:
    stripped = DEEPSEEK_OCR_PAGE.replace("<|ref|>", "").replace("<|/ref|>", "")
    stripped = stripped.replace("<|det|>", "").replace("<|/det|>", "")
    assert from_model_output(stripped) == from_model_output(DEEPSEEK_OCR_PAGE)


def test_markdown_already_in_the_dialect_passes_unchanged() -> None:
    page = "## Indicators\n\n- Litmus turns **red** in acid.\n\n| Acid | pKa |\n|---|---|\n| HCl | -6.3 |"
    assert from_model_output(page) == page


def test_plain_text_keeps_words_rows_and_formulas() -> None:
    text = plain_text(from_model_output(DEEPSEEK_OCR_PAGE))
    assert text.split("\n\n") == [
        "Motion with constant acceleration",
        "A body with speed $u$ and acceleration $a$ covers $s = ut + \\frac{1}{2}at^2$.",
        "$$v^2 = u^2 + 2as$$",
        "Quantity | Symbol | Unit",
        "Velocity | v | m/s",
        "Acceleration | a | m/s\u00b2",
        "Time | elapsed | s",
    ]
    assert plain_text("- Litmus turns **red** in *acid*.") == "Litmus turns red in acid."


def test_tidy_unwraps_bold_headings_and_blank_runs() -> None:
    assert tidy("## **Indicators**  \n\n\n\nText   \n") == "## Indicators\n\nText"
