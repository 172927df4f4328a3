"""Extractive summaries of real arXiv abstracts (from /work/shared/eval/seed_papers.json)."""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
import time

import pytest

from bot.papers import Paper
from bot.storage import Store
from bot.summarize import (
    ExtractiveSummarizer,
    LLMSummarizer,
    Summarizer,
    build_summarizer,
    extractive_summary,
    split_sentences,
    summary_for,
)

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


class _ChatHandler(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible chat-completions endpoint answering what the test set."""

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((self.path, dict(self.headers), request))
        status, body = self.server.answer
        if status is None:
            time.sleep(1.0)  # longer than the client's timeout
            status = 200
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except BrokenPipeError:
            pass  # the client gave up waiting: the timeout test wants exactly that

    def log_message(self, *args):
        pass


@pytest.fixture
def chat_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ChatHandler)
    server.requests = []
    server.answer = (200, {})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield server
    server.shutdown()
    server.server_close()


def llm(server, timeout=5.0):
    return LLMSummarizer(
        url=server.url,
        model="tiny",
        api_key="sk-test",
        timeout=timeout,
        fallback=ExtractiveSummarizer(),
    )


ABSTRACT = (
    "Long documents are hard. We propose SparseKV, a cache compression method for long "
    "context inference. It halves memory use."
)


def test_llm_summary_is_used_and_asked_properly(chat_server):
    answer = {"choices": [{"message": {"content": "  SparseKV halves the KV cache.  "}}]}
    chat_server.answer = (200, answer)
    summary = llm(chat_server).summarize("SparseKV", ABSTRACT, "kv cache")
    assert summary == "SparseKV halves the KV cache."
    path, headers, request = chat_server.requests[0]
    assert path == "/v1/chat/completions"
    assert headers["Authorization"] == "Bearer sk-test"
    assert request["model"] == "tiny" and "kv cache" in request["messages"][0]["content"]


def test_long_llm_answer_is_cut_at_a_word(chat_server):
    chat_server.answer = (200, {"choices": [{"message": {"content": "word " * 100}}]})
    summary = llm(chat_server).summarize("t", ABSTRACT)
    assert len(summary) <= 300 and summary.endswith("word…")


@pytest.mark.parametrize(
    "answer", [(500, {"error": "boom"}), (200, {"choices": []}), (200, {"x": 1}), (None, {})]
)
def test_llm_failure_or_timeout_falls_back_to_extractive(chat_server, answer):
    chat_server.answer = answer
    summary = llm(chat_server, timeout=0.2).summarize("SparseKV", ABSTRACT, "kv cache")
    assert summary == extractive_summary(ABSTRACT, "kv cache")


def test_unreachable_llm_falls_back():
    summarizer = LLMSummarizer(
        url="http://127.0.0.1:9",
        model="m",
        api_key="",
        timeout=0.5,
        fallback=ExtractiveSummarizer(),
    )
    assert summarizer.summarize("t", ABSTRACT) == extractive_summary(ABSTRACT)


def test_summarizer_is_extractive_unless_an_llm_url_is_set(settings):
    assert isinstance(build_summarizer(settings.summary, {}), ExtractiveSummarizer)
    configured = dataclasses.replace(settings.summary, llm_url="http://x/v1", llm_model="m")
    built = build_summarizer(configured, {"PAPERBOT_LLM_API_KEY": "k"})
    assert isinstance(built, LLMSummarizer) and built.api_key == "k"


def test_summary_is_made_once_per_paper_and_stored(tmp_path):
    store = Store(tmp_path / "s.db")
    paper = Paper(id="2608.00001", title="SparseKV", abstract=ABSTRACT, url="")
    store.papers.upsert([paper])
    first = summary_for(store, ExtractiveSummarizer(), paper, "kv cache")
    assert store.papers.summary(paper.id) == first
    # A later alert for another topic shows the stored summary, not a new one.
    assert summary_for(store, ExtractiveSummarizer(max_chars=40), paper, "memory") == first
