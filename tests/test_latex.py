"""Escaping and brace protection, checked by decoding the output back with pylatexenc."""

from __future__ import annotations

import pytest
from pylatexenc.latex2text import LatexNodes2Text

from exporters.latex import escape, protect_title

DECODE = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True)


@pytest.mark.parametrize(
    "text",
    [
        "Déjà Vu",
        "Łukasz Kaiser",
        "Müller & Søren: 100% of $5 #1 a_b",
        "naïve Ça va",
        "Zhang–Li",
    ],
)
def test_escape_round_trips_through_a_latex_decoder(text):
    encoded = escape(text)
    assert encoded.isascii()
    assert DECODE.latex_to_text(encoded) == text.replace("–", "–")


def test_every_special_character_is_escaped():
    encoded = escape(r"& % $ # _ { } ~ ^ \ ")
    assert encoded == (
        r"\& \% \$ \# \_ \textbraceleft{} \textbraceright{} \textasciitilde{} \textasciicircum{} \textbackslash{} "
    )


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Serving LLMs with vLLM on GPUs", "Serving {LLMs} with {vLLM} on {GPUs}"),
        (
            "Efficient Memory Management with PagedAttention",
            "Efficient Memory Management with {PagedAttention}",
        ),
        ("S-LoRA: Serving Thousands of Adapters", "{S}-{LoRA}: Serving Thousands of Adapters"),
        ("Exact Attention with IO-Awareness", "Exact Attention with {IO}-Awareness"),
        ("QServe: W4A8KV4 Quantization", "{QServe}: {W4A8KV4} Quantization"),
        (
            "A Distributed Serving System for Transformer-Based Models",
            "A Distributed Serving System for Transformer-Based Models",
        ),
        ("LLM in a flash", "{LLM} in a flash"),
    ],
)
def test_brace_protection_protects_acronyms_only(title, expected):
    assert protect_title(title) == expected


def test_protected_non_ascii_word_stays_balanced():
    assert protect_title("DéjàVu: Streaming") == r"{D{\'e}j{\`a}Vu}: Streaming"
