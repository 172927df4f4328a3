"""Extractive summaries of real arXiv abstracts (from /work/shared/eval/seed_papers.json)."""

from __future__ import annotations

import pytest

from bot.summarize import ExtractiveSummarizer, Summarizer, extractive_summary, split_sentences

# 4M: Massively Multimodal Masked Modeling
FOUR_M = (
    "Current machine learning models for vision are often highly specialized and limited to "
    "a single modality and task. In contrast, recent large language models exhibit a wide "
    "range of capabilities, hinting at a possibility for similarly versatile models in "
    "computer vision. In this paper, we take a step in this direction and propose a "
    "multimodal training scheme called 4M. It consists of training a single unified "
    "Transformer encoder-decoder using a masked modeling objective across a wide range of "
    "input/output modalities - including text, images, geometric, and semantic modalities, "
    "as well as neural network feature maps. 4M achieves scalability by unifying the "
    "representation space of all modalities through mapping them into discrete tokens and "
    "performing multimodal masked modeling on a small randomized subset of tokens. 4M leads "
    "to models that exhibit several key capabilities: (1) they can perform a diverse set of "
    "vision tasks out of the box, (2) they excel when fine-tuned for unseen downstream "
    "tasks or new input modalities, and (3) they can function as a generative model that "
    "can be conditioned on arbitrary modalities, enabling a wide variety of expressive "
    "multimodal editing capabilities with remarkable flexibility. Through experimental "
    "analyses, we demonstrate the potential of 4M for training versatile and scalable "
    "foundation models for vision tasks, setting the stage for further exploration in "
    "multimodal learning for vision and other domains."
)

# NVLM: Open Frontier-Class Multimodal LLMs
NVLM = (
    "We introduce NVLM 1.0, a family of frontier-class multimodal large language models "
    "(LLMs) that achieve state-of-the-art results on vision-language tasks, rivaling the "
    "leading proprietary models (e.g., GPT-4o) and open-access models (e.g., Llama 3-V 405B "
    "and InternVL 2). Remarkably, NVLM 1.0 shows improved text-only performance over its "
    "LLM backbone after multimodal training. In terms of model design, we perform a "
    "comprehensive comparison between decoder-only multimodal LLMs (e.g., LLaVA) and "
    "cross-attention-based models (e.g., Flamingo). Based on the strengths and weaknesses "
    "of both approaches, we propose a novel architecture that enhances both training "
    "efficiency and multimodal reasoning capabilities. Furthermore, we introduce a 1-D "
    "tile-tagging design for tile-based dynamic high-resolution images, which significantly "
    "boosts performance on multimodal reasoning and OCR-related tasks. Regarding training "
    "data, we meticulously curate and provide detailed information on our multimodal "
    "pretraining and supervised fine-tuning datasets. Our findings indicate that dataset "
    "quality and task diversity are more important than scale, even during the pretraining "
    "phase, across all architectures. Notably, we develop production-grade multimodality "
    "for the NVLM-1.0 models, enabling them to excel in vision-language tasks while "
    "maintaining and even improving text-only performance compared to their LLM backbones. "
    "To achieve this, we craft and integrate a high-quality text-only dataset into "
    "multimodal training, alongside a substantial amount of multimodal math and reasoning "
    "data, leading to enhanced math and coding capabilities across modalities. To advance "
    "research in the field, we are releasing the model weights and will open-source the "
    "code for the community: https://nvlm-project.github.io/."
)

# Meta-Transformer: A Unified Framework for Multimodal Learning
META_TRANSFORMER = (
    "Multimodal learning aims to build models that can process and relate information from "
    "multiple modalities. Despite years of development in this field, it still remains "
    "challenging to design a unified network for processing various modalities (e.g. "
    "natural language, 2D images, 3D point clouds, audio, video, time series, tabular data) "
    "due to the inherent gaps among them. In this work, we propose a framework, named "
    "Meta-Transformer, that leverages a frozen encoder to perform multimodal perception "
    "without any paired multimodal training data. In Meta-Transformer, the raw input data "
    "from various modalities are mapped into a shared token space, allowing a subsequent "
    "encoder with frozen parameters to extract high-level semantic features of the input "
    "data. Composed of three main components: a unified data tokenizer, a modality-shared "
    "encoder, and task-specific heads for downstream tasks, Meta-Transformer is the first "
    "framework to perform unified learning across 12 modalities with unpaired data. "
    "Experiments on different benchmarks reveal that Meta-Transformer can handle a wide "
    "range of tasks including fundamental perception (text, image, point cloud, audio, "
    "video), practical application (X-Ray, infrared, hyperspectral, and IMU), and data "
    "mining (graph, tabular, and time-series). Meta-Transformer indicates a promising "
    "future for developing unified multimodal intelligence with transformers. Code will be "
    "available at https://github.com/invictus717/MetaTransformer"
)

# Mono-InternVL: Pushing the Boundaries of Monolithic Multimodal Large Language Models
# with Endogenous Visual Pre-training
MONO_INTERNVL = (
    "The rapid advancement of Large Language Models (LLMs) has led to an influx of efforts "
    "to extend their capabilities to multimodal tasks. Among them, growing attention has "
    "been focused on monolithic Multimodal Large Language Models (MLLMs) that integrate "
    "visual encoding and language decoding into a single LLM. Despite the structural "
    "simplicity and deployment-friendliness, training a monolithic MLLM with promising "
    "performance still remains challenging. In particular, the popular approaches adopt "
    "continuous pre-training to extend a pre-trained LLM to a monolithic MLLM, which "
    "suffers from catastrophic forgetting and leads to performance degeneration. In this "
    "paper, we aim to overcome this limitation from the perspective of delta tuning. "
    "Specifically, our core idea is to embed visual parameters into a pre-trained LLM, "
    "thereby incrementally learning visual knowledge from massive data via delta tuning, "
    "i.e., freezing the LLM when optimizing the visual parameters. Based on this principle, "
    "we present Mono-InternVL, a novel monolithic MLLM that seamlessly integrates a set of "
    "visual experts via a multimodal mixture-of-experts structure. Moreover, we propose an "
    "innovative pre-training strategy to maximize the visual capability of Mono-InternVL, "
    "namely Endogenous Visual Pre-training (EViP). In particular, EViP is designed as a "
    "progressive learning process for visual experts, which aims to fully exploit the "
    "visual knowledge from noisy data to high-quality data. To validate our approach, we "
    "conduct extensive experiments on 16 benchmarks. Experimental results not only validate "
    "the superior performance of Mono-InternVL compared to the state-of-the-art MLLM on 6 "
    "multimodal benchmarks, e.g., +113 points over InternVL-1.5 on OCRBench, but also "
    "confirm its better deployment efficiency, with first token latency reduced by up to "
    "67%."
)

ABSTRACTS = [FOUR_M, NVLM, META_TRANSFORMER, MONO_INTERNVL]


def assert_clean_end(summary: str, abstract: str) -> None:
    """The summary ends a sentence, or ends a whole word and says it was cut."""
    if summary.endswith("…"):
        kept = summary[:-1]
        at = abstract.index(kept) + len(kept)
        assert abstract[at] in " ,;:)", f"cut inside a word: {summary!r}"
    else:
        assert summary[-1] in ".!?)", summary


@pytest.mark.parametrize(
    ("abstract", "contribution"),
    [
        (FOUR_M, "we take a step in this direction and propose a multimodal training scheme"),
        (NVLM, "We introduce NVLM 1.0, a family of frontier-class multimodal"),
        (META_TRANSFORMER, "In this work, we propose a framework, named Meta-Transformer"),
        (MONO_INTERNVL, "we present Mono-InternVL, a novel monolithic MLLM"),
    ],
)
def test_summary_is_the_contribution_sentence(abstract, contribution):
    summary = extractive_summary(abstract)
    assert contribution in summary
    assert len(summary) <= 300
    assert_clean_end(summary, abstract)


@pytest.mark.parametrize("abstract", [FOUR_M, META_TRANSFORMER, MONO_INTERNVL])
def test_background_opening_is_skipped(abstract):
    opening = split_sentences(abstract)[0]
    assert opening not in extractive_summary(abstract)


@pytest.mark.parametrize("abstract", ABSTRACTS)
def test_sentences_come_from_the_abstract_in_order(abstract):
    summary = extractive_summary(abstract)
    sentences = split_sentences(summary)
    positions = [abstract.index(s) for s in sentences]
    assert positions == sorted(positions)


@pytest.mark.parametrize("abstract", ABSTRACTS)
def test_deterministic(abstract):
    assert extractive_summary(abstract, "vision") == extractive_summary(abstract, "vision")


def test_topic_decides_between_competing_contributions():
    plain = extractive_summary(MONO_INTERNVL)
    on_topic = extractive_summary(MONO_INTERNVL, topic="visual pre-training strategies")
    assert "we present Mono-InternVL" in plain and "EViP" not in plain
    assert "we propose an innovative pre-training strategy" in on_topic
    assert "we present Mono-InternVL" not in on_topic

    plain = extractive_summary(NVLM)
    on_topic = extractive_summary(NVLM, topic="OCR on high-resolution images")
    assert plain.startswith("We introduce NVLM 1.0")
    assert on_topic.startswith("Furthermore, we introduce a 1-D tile-tagging design")


def test_long_sentence_is_cut_at_a_word():
    summary = extractive_summary(NVLM, max_chars=100)
    assert len(summary) <= 100
    assert summary.endswith("…")
    assert summary.startswith("We introduce NVLM 1.0")
    assert_clean_end(summary, NVLM)


def test_unbalanced_math_is_not_left_open():
    abstract = "We propose a bound of $O(n \\log n)$ for sorting with $k$ comparators in parallel."
    # At 30 characters the cut would fall inside "$O(n \\log n)$".
    assert extractive_summary(abstract, max_chars=30) == "We propose a bound of…"


def test_empty_abstract():
    assert extractive_summary("") == ""
    assert extractive_summary("   \n ") == ""


def test_splitting_respects_abbreviations_decimals_and_latex():
    text = (
        "Prior work (e.g. Smith et al. 2020) uses Fig. 3 of the survey, i.e. Table 2. "
        "Accuracy rises from 3.5 to 4.2 points vs. the baseline. "
        "We bound the error by $\\epsilon < 0.1. N$ samples suffice!  "
        "Code is at\nhttps://example.org."
    )
    assert split_sentences(text) == [
        "Prior work (e.g. Smith et al. 2020) uses Fig. 3 of the survey, i.e. Table 2.",
        "Accuracy rises from 3.5 to 4.2 points vs. the baseline.",
        "We bound the error by $\\epsilon < 0.1. N$ samples suffice!",
        "Code is at https://example.org.",
    ]


def test_latex_is_kept_as_written():
    abstract = (
        "Graph learning is important. We propose $\\mathcal{G}$-Net, which achieves "
        "$O(n \\log n)$ time on graphs with $|V| \\le 10^6$."
    )
    assert extractive_summary(abstract) == (
        "We propose $\\mathcal{G}$-Net, which achieves $O(n \\log n)$ time on graphs with "
        "$|V| \\le 10^6$."
    )


def test_extractive_summarizer_is_a_summarizer():
    summarizer: Summarizer = ExtractiveSummarizer(max_chars=200)
    summary = summarizer.summarize("NVLM: Open Frontier-Class Multimodal LLMs", NVLM)
    assert summary == extractive_summary(NVLM, max_chars=200)
    assert len(summary) <= 200
