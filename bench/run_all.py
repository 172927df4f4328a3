"""`make bench`: ingest, encoding, matching, search, start-up and delivery, in one table.

Every figure is printed with a baseline measured in the same run and its ratio against
the issue's target; absolute times on a shared machine are noise, ratios much less so.

Ingest, matching, search and delivery run once on SQLite and then once on PostgreSQL (an
embedded server, tests/postgres.py, started after the SQLite runs so that it is idle
while they are timed), and the table shows the two side by side. The encoding candidates
and start-up are measured on SQLite only.
"""

from __future__ import annotations

import itertools
import logging
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_data import arxiv_rss, synthetic_papers, topics  # noqa: E402
from bot.deliver import Deliverer, make_slack_client  # noqa: E402
from bot.embed import Embedder  # noqa: E402
from bot.search import Search  # noqa: E402
from bot.services import build_services  # noqa: E402
from bot.settings import FeedSettings, load_settings  # noqa: E402
from bot.summarize import ExtractiveSummarizer  # noqa: E402
from tests.postgres import EmbeddedServer  # noqa: E402

SQLITE, POSTGRESQL = "SQLite", "PostgreSQL"
BOTH = (SQLITE, POSTGRESQL)
# Row name -> backend -> (measured, baseline, verdict), in the order rows were first
# made; a backend whose benchmark did not run has a string there (the reason).
ROWS: dict[str, dict[str, tuple[str, str, str] | str]] = {}
# Rows of a benchmark measured on SQLite only show this in the PostgreSQL column.
SQLITE_ONLY = "- (SQLite only)"
# The paper counts of the search benchmark; smaller ones (BENCH_SEARCH_COUNTS=1000,5000)
# only to try the benchmark out quickly.
SEARCH_COUNTS = tuple(
    int(n) for n in os.environ.get("BENCH_SEARCH_COUNTS", "10000,100000").split(",")
)
# Texts each faster-encoding candidate (and float32, just before it) is timed and
# compared on.
CANDIDATE_TEXTS = 256


class Backend:
    """Where a benchmark's databases go: SQLite files in `work`, or new databases on the
    embedded PostgreSQL server."""

    def __init__(self, name: str, work: Path, server: EmbeddedServer | None = None):
        self.name = name
        self.work = work
        self.server = server

    def location(self, name: str) -> str:
        """A new, empty database: the file `name` in `work`, or a new PostgreSQL database."""
        if self.server is None:
            return str(self.work / name)
        return self.server.new_database()


def row(name: str, value: str, baseline: str, verdict: str, backend: str | None = SQLITE) -> None:
    """One result; `backend` None for a benchmark measured on SQLite only."""
    cells = ROWS.setdefault(name, {})
    cells[backend or SQLITE] = (value, baseline, verdict)
    if backend is None:
        cells[POSTGRESQL] = SQLITE_ONLY
    print(
        f"  {name} [{backend or SQLITE}]: {value} | {baseline} | {verdict}",
        file=sys.stderr,
        flush=True,
    )


def services_at(location: str, embedder: Embedder):
    return build_services(load_settings(db_path=location, env={}), embedder=embedder)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_ingest(embedder: Embedder, backend: Backend):
    """Parse + store + embed 2,000 items against raw encode of the same texts.

    The pipeline runs as configured ([model] precision; bfloat16 on a CPU with native
    bfloat16). Its baseline is raw float32 `SentenceTransformer.encode` of the same texts,
    as the issue states; raw encoding at the pipeline's own precision is printed too, so
    the pipeline's overhead shows apart from the precision's gain.
    """
    papers = synthetic_papers(2000)
    feed_file = backend.work / "cs.LG.xml"
    feed_file.write_bytes(arxiv_rss(papers))
    texts = [p.text_for_embedding for p in papers]
    services = build_services(load_settings(db_path=backend.location("ingest.db"), env={}))
    configured = services.embedder
    embedder.encode(texts[:64])  # warm-up
    configured.encode(texts[:64])
    started = time.perf_counter()
    raw = embedder._model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True)
    raw_rate = len(texts) / (time.perf_counter() - started)
    feed = FeedSettings(url=str(feed_file))
    # Raw encoding at the pipeline's precision is timed just before and just after the
    # pipeline, and averaged, so a drift in the machine's speed does not land on one side.
    started = time.perf_counter()
    configured.encode(texts)
    raw_before = time.perf_counter() - started
    started = time.perf_counter()
    report = services.pipeline.ingest_feed(feed)
    embedded = services.pipeline.embed_missing()
    rate = embedded / (time.perf_counter() - started)
    started = time.perf_counter()
    configured.encode(texts)
    configured_rate = 2 * len(texts) / (raw_before + time.perf_counter() - started)
    precision = configured.precision.name
    row(
        f"ingest {report.new} items at {precision}: papers/s",
        f"{rate:.1f}",
        f"raw float32 encode {raw_rate:.1f}/s; raw {precision} encode {configured_rate:.1f}/s "
        "(mean of before and after)",
        f"{rate / raw_rate:.2f} of raw float32 (target >= 0.90); "
        f"{rate / configured_rate:.2f} of raw {precision}",
        backend.name,
    )
    started = time.perf_counter()
    services.pipeline.ingest_feed(feed)
    again = services.pipeline.embed_missing()
    seconds = time.perf_counter() - started
    row(
        "re-ingest the same 2,000 items",
        f"{again} encodes, {seconds:.2f} s",
        "first ingest as above",
        f"{'ok' if again == 0 and seconds < 2 else 'MISSED'} (target 0 encodes, < 2 s)",
        backend.name,
    )
    return services, texts, raw, raw_rate


def bench_encoding(
    embedder: Embedder, texts: list[str], default, default_rate: float, work: Path
) -> None:
    """Candidates for faster encoding, each against the float32 default in the same run.

    Per candidate: texts/s against float32 timed just before it on the same texts (so a
    change in the machine's load hits both), mean cosine to the float32 vectors of the
    ingest benchmark, and nDCG@5 of the evaluation queries searched with the candidate
    against float32. A candidate holds at >= 2x, cosine >= 0.99 and |delta nDCG@5| <= 0.01.
    """
    import copy

    import torch

    texts, default = texts[:CANDIDATE_TEXTS], default[:CANDIDATE_TEXTS]
    model = embedder._model
    baseline_ndcg = eval_ndcg(embedder, work / "eval-float32.db")
    bfloat16 = Embedder(embedder.model_path, embedder.batch_size, "bfloat16")
    quantized = torch.quantization.quantize_dynamic(
        copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8
    )
    short = copy.deepcopy(model)
    short.max_seq_length = 128
    others = itertools.chain(
        (
            ("bfloat16 autocast, float32 weights", AutocastEncoder(model)),
            ("int8 dynamic quantization", quantized),
            ("max_seq_length 128", short),
        ),
        onnx_candidates(model, work),
    )
    candidates = itertools.chain(
        [("bfloat16, the model cast whole (as bot/embed.py runs it)", bfloat16)],
        ((name, CandidateEmbedder(other, embedder.name)) for name, other in others),
    )
    for n, (name, candidate) in enumerate(candidates):
        float32_rate = encode_rate(embedder, texts)
        vectors, rate = encode_rate(candidate, texts, keep=True)
        cosine = float(np.mean(np.sum(vectors * default, axis=1)))
        ndcg = eval_ndcg(candidate, work / f"eval-{n}.db")
        deltas = {kind: ndcg[kind] - baseline_ndcg[kind] for kind in baseline_ndcg}
        ratio = rate / float32_rate
        agrees = bool(deltas) and max(abs(d) for d in deltas.values()) <= 0.01
        holds = ratio >= 2 and cosine >= 0.99 and agrees
        row(
            f"encode: {name}",
            f"{rate:.1f} texts/s, mean cosine {cosine:.4f}, nDCG@5 "
            + (", ".join(f"{k} {ndcg[k]:.3f} ({d:+.3f})" for k, d in deltas.items()) or "-"),
            f"float32 {float32_rate:.1f} texts/s just before (ingest raw {default_rate:.1f}/s), "
            f"nDCG@5 " + (", ".join(f"{k} {v:.3f}" for k, v in baseline_ndcg.items()) or "-"),
            f"{ratio:.2f}x (target >= 2x, cosine >= 0.99, |delta nDCG@5| <= 0.01): "
            f"{'holds' if holds else 'does not hold'}",
            None,
        )
    bench_query_encoding(embedder, bfloat16)


def bench_query_encoding(float32: Embedder, bfloat16: Embedder) -> None:
    """One search query at a time (`encode_one`), bfloat16 and float32 in turn.

    The first five queries of each are warm-up and not counted.
    """
    timings = {float32: [], bfloat16: []}
    for query in topics(60, seed=11):
        for model, seconds in timings.items():
            started = time.perf_counter()
            model.encode_one(query)
            seconds.append(time.perf_counter() - started)
    p50 = {model: statistics.median(seconds[5:]) * 1000 for model, seconds in timings.items()}
    row(
        "encode one search query (encode_one) in bfloat16",
        f"p50 {p50[bfloat16]:.1f} ms",
        f"float32 p50 {p50[float32]:.1f} ms, the same queries in turn",
        f"{p50[float32] / p50[bfloat16]:.2f}x as fast (no target; search latency includes it)",
        None,
    )


class CandidateEmbedder:
    """An encoding candidate behind the two Embedder methods search and the pipeline call.

    Vectors are normalised in float32 here, as `Embedder` does for bfloat16.
    """

    def __init__(self, model, name: str):
        self.model = model
        self.name = name

    def encode(self, texts: list[str], on_progress=None) -> np.ndarray:
        """As Embedder.encode; progress is not reported (a benchmark draws no bar)."""
        import torch

        vectors = self.model.encode(
            texts,
            batch_size=64,
            normalize_embeddings=False,
            convert_to_tensor=True,
            show_progress_bar=False,
        )
        vectors = vectors.float().numpy() if torch.is_tensor(vectors) else np.asarray(vectors)
        vectors = vectors.astype(np.float32, copy=False)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


class AutocastEncoder:
    """A float32 model run under bfloat16 autocast: the other way to compute in bfloat16."""

    def __init__(self, model):
        self.model = model

    def encode(self, texts: list[str], **options):
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.model.encode(texts, **options)


def encode_rate(encoder, texts: list[str], keep: bool = False):
    """Texts per second of `encoder.encode` after a warm-up; with `keep`, the vectors too."""
    encoder.encode(texts[:32])
    started = time.perf_counter()
    vectors = encoder.encode(texts)
    rate = len(texts) / (time.perf_counter() - started)
    return (vectors, rate) if keep else rate


def eval_ndcg(encoder, db: Path) -> dict[str, float]:
    """nDCG@5 of the evaluation set's topic and liked-paper queries under hybrid search
    (the default), `encoder` embedding both the corpus and the queries.

    Empty when the evaluation set (../shared/eval) is not there.
    """
    bench_dir = str(Path(__file__).resolve().parent)
    if bench_dir not in sys.path:
        # eval_matching imports its neighbour as `evalset`, as a script run from bench/.
        sys.path.insert(0, bench_dir)
    from eval_matching import ranking_table
    from evalset import DEFAULT_EVAL_DIR, load_eval

    if not (DEFAULT_EVAL_DIR / "dev_queries.json").exists():
        return {}
    evalset = load_eval(DEFAULT_EVAL_DIR, db, embedder=encoder)
    try:
        rows = ranking_table(evalset)
    finally:
        evalset.services.store.close()
    return {kind: ndcg for method, kind, ndcg, *_ in rows if method == "hybrid"}


class OnnxEncoder:
    """The bundled model's transformer run by ONNX Runtime, pooled like sentence-transformers.

    Mean over the tokens the attention mask keeps, then L2-normalised: what the bundled
    model's Pooling and Normalize modules do.
    """

    def __init__(self, model, onnx_path: Path, input_names: list[str]):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self.session = onnxruntime.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = model.tokenizer
        self.max_length = model.max_seq_length
        self.input_names = input_names

    def encode(self, texts: list[str], batch_size: int = 64, **_) -> np.ndarray:
        batches = []
        for start in range(0, len(texts), batch_size):
            tokens = self.tokenizer(
                texts[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="np",
            )
            feeds = {name: tokens[name].astype(np.int64) for name in self.input_names}
            hidden = self.session.run(None, feeds)[0]
            mask = tokens["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            batches.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.vstack(batches)


def onnx_candidates(model, work: Path) -> list[tuple[str, OnnxEncoder]]:
    """The bundled model exported to ONNX (float32, and int8 per-channel dynamic quantized).

    Empty, with a row saying so, when onnxruntime is not installed (it is not a dependency:
    neither candidate reached 2x; `pip install onnxruntime==1.31.1 onnx==1.23.2` to rerun).
    """
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        row(
            "encode: ONNX Runtime export",
            "not measured",
            "-",
            "onnxruntime is not installed",
            None,
        )
        return []
    transformer = model[0].auto_model.eval()
    sample = model.tokenizer(["a b", "c"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Hidden(torch.nn.Module):
        """The transformer with keyword inputs in a fixed order, returning token states."""

        def __init__(self):
            super().__init__()
            # A submodule, so that the export stores its weights as parameters.
            self.transformer = transformer

        def forward(self, *inputs):
            return self.transformer(**dict(zip(names, inputs, strict=True))).last_hidden_state

    float_path, int8_path = work / "model.onnx", work / "model.int8.onnx"
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "hidden"]}
    torch.onnx.export(
        Hidden(),
        tuple(sample[n] for n in names),
        str(float_path),
        input_names=names,
        output_names=["hidden"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(float_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=True)
    return [
        ("ONNX Runtime float32", OnnxEncoder(model, float_path, names)),
        ("ONNX Runtime int8 per-channel", OnnxEncoder(model, int8_path, names)),
    ]


def bench_matching(services, embedder: Embedder, backend: Backend) -> None:
    """2,000 new papers x 10,000 subscriptions, and the per-subscription path for reference."""
    store = services.store
    texts = topics(10_000)
    distinct = list(dict.fromkeys(texts))
    vectors = dict(zip(distinct, embedder.encode(distinct), strict=True))
    for i, topic in enumerate(texts):
        extra = {}
        if i % 20 == 1:
            extra["required"] = ["model"]
        if i % 20 == 2:
            extra["categories"] = ["cs.CL"]
        store.subscriptions.add(
            owner=f"U{i % 2000:04d}",
            target=f"C{i % 200:03d}" if i % 5 == 0 else f"U{i % 2000:04d}",
            topic=topic,
            embedding=vectors[topic],
            **extra,
        )
    paper_ids = store.papers.unmatched_ids()
    matcher = services.matcher
    # Scoring is deciding every (subscription, paper) pair; building the alerts of a cycle
    # (caps, reasons) is timed apart. Memory is taken on a separate, untimed run, because
    # tracemalloc slows Python objects down.
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        decisions = matcher.decide(paper_ids)
        runs.append(time.perf_counter() - started)
    seconds = statistics.median(runs)
    tracemalloc.start()
    matcher.decide(paper_ids)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    started = time.perf_counter()
    result = matcher.match(paper_ids)
    cycle_seconds = time.perf_counter() - started
    # The one product no vectorised matcher can avoid: every topic embedding times every
    # paper embedding.
    corpus = matcher.corpus()
    topic_matrix = np.vstack([s.embedding for s in decisions.subscriptions])
    paper_matrix = corpus.matrix[[corpus.index[p] for p in decisions.columns]]
    started = time.perf_counter()
    topic_matrix @ paper_matrix.T
    product = time.perf_counter() - started
    from bot.match import evidence

    sample = decisions.subscriptions[:100]
    started = time.perf_counter()
    for subscription in sample:
        evidence(store, subscription, corpus)
    per_sub = (time.perf_counter() - started) / len(sample) * len(decisions.subscriptions)
    row(
        f"match {len(paper_ids)} papers x {len(decisions.subscriptions):,} subscriptions",
        f"{seconds:.2f} s scoring (median of 3), peak {peak:.0f} MB, {len(decisions.rows)} "
        f"matches; match() with caps and reasons {cycle_seconds:.1f} s: "
        f"{len(result.alerts)} alerts, {len(result.over_cap)} over the cap",
        f"cosine product alone {product * 1000:.0f} ms ({seconds / product:.0f}x); "
        f"one subscription at a time {per_sub:.1f} s",
        f"{seconds:.2f} of the 1 s target ({'ok' if seconds < 1 else 'MISSED'})",
        backend.name,
    )


def build_search_db(location: str, count: int, base: np.ndarray, embedder: Embedder):
    """`count` synthetic papers whose embeddings are mixtures of real ones plus noise.

    Each paper is inserted once with its embedding, as the embed step would leave it.
    """
    services = services_at(location, embedder)
    papers = synthetic_papers(count, seed=count)
    rng = np.random.default_rng(count)
    for start in range(0, count, 10_000):
        chunk = papers[start : start + 10_000]
        picks = base[rng.integers(0, len(base), size=(len(chunk), 2))]
        mixed = picks[:, 0] + 0.5 * picks[:, 1] + rng.normal(0, 0.02, size=picks[:, 0].shape)
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        services.store.papers.insert_embedded(chunk, embedder.name, mixed.astype(np.float32))
    return services


class PrecomputedQueries:
    """An embedder stand-in that encodes each text once and then answers from memory.

    Searching through it, once every query has been asked, times everything but the query
    embedding: BM25, cosines, fusion. The texts are those search encodes, which spells out
    the acronyms the stored papers define ("phm" as "... (phm)"), so they are learned by
    asking, not listed beforehand.
    """

    def __init__(self, embedder: Embedder):
        self.name = embedder.name
        self.embedder = embedder
        self.vectors: dict[str, np.ndarray] = {}

    def encode_one(self, text: str) -> np.ndarray:
        if text not in self.vectors:
            self.vectors[text] = self.embedder.encode_one(text)
        return self.vectors[text]


def percentiles_ms(seconds: list[float]) -> tuple[float, float]:
    return statistics.median(seconds) * 1000, float(np.percentile(seconds, 95)) * 1000


def bench_search(ingest_services, embedder: Embedder, backend: Backend) -> str | None:
    """p50/p95 of full searches at 10,000 and 100,000 papers, against the query embedding.

    Each query is timed three ways in turn: encoding it alone (the baseline), a full
    search, and a search whose query vector was encoded beforehand.
    """
    queries = topics(60, seed=5)
    _, base = ingest_services.store.papers.embeddings(embedder.name)
    precomputed = PrecomputedQueries(embedder)
    big_db = None
    for count in SEARCH_COUNTS:
        db = backend.location(f"search{count}.db")
        started = time.perf_counter()
        services = build_search_db(db, count, base, embedder)
        built = time.perf_counter() - started
        search = services.search
        no_encoding = Search(services.store, precomputed)
        started = time.perf_counter()
        search.search(queries[0])
        cold = time.perf_counter() - started
        for query in queries:
            no_encoding.search(query)
        latencies, encode_only, without_encoding = [], [], []
        for query in queries[1:]:
            started = time.perf_counter()
            embedder.encode_one(query)
            encode_only.append(time.perf_counter() - started)
            started = time.perf_counter()
            search.search(query, limit=5)
            latencies.append(time.perf_counter() - started)
            started = time.perf_counter()
            no_encoding.search(query, limit=5)
            without_encoding.append(time.perf_counter() - started)
        p50, p95 = percentiles_ms(latencies)
        bare50, bare95 = percentiles_ms(without_encoding)
        encode50, encode95 = percentiles_ms(encode_only)
        row(
            f"search {count:,} papers (embeddings written)",
            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms (first query {cold * 1000:.0f} ms); "
            f"without the query embedding p50 {bare50:.0f} ms, p95 {bare95:.0f} ms; "
            f"built in {built:.0f} s",
            f"query embedding alone p50 {encode50:.0f} ms, p95 {encode95:.0f} ms",
            f"p95 {p95 / 150:.2f} of 150 ms ({'ok' if p95 < 150 else 'MISSED'})",
            backend.name,
        )
        big_db = db
        services.store.close()
    return big_db


STARTUP = """
import sys, time
started = time.perf_counter()
from bot.app import build_bolt_app
from bot.services import build_services
from bot.settings import load_settings
from slack_sdk import WebClient
# A client that is never called: the bolt app needs one to be built.
slack = WebClient(token="xoxb-bench", base_url="http://127.0.0.1:9/")
services = build_services(load_settings(db_path=sys.argv[1], env={}), slack=slack)
services.embedder.load()
build_bolt_app(services)
services.search.search("sparse attention for long context")
ready = time.perf_counter() - started
rss = [l for l in open("/proc/self/status") if l.startswith("VmRSS:")][0].split()[1]
print(ready, int(rss) / 1024)
"""


def bench_startup(big_db: str, work: Path) -> None:
    import subprocess

    def run(db: str) -> tuple[float, float]:
        out = subprocess.run(
            [sys.executable, "-c", STARTUP, db], capture_output=True, text=True, check=True
        )
        ready, rss = out.stdout.split()
        return float(ready), float(rss)

    empty_ready, empty_rss = run(str(work / "empty.db"))
    ready, rss = run(big_db)
    row(
        f"start-up with {max(SEARCH_COUNTS):,} papers (services, model, bolt app, first search)",
        f"{ready:.1f} s, RSS {rss:.0f} MB",
        f"empty database: {empty_ready:.1f} s, {empty_rss:.0f} MB",
        f"RSS {rss / 1536:.2f} of 1.5 GB ({'ok' if rss < 1536 else 'MISSED'})",
        None,
    )


def bench_delivery(embedder: Embedder, backend: Backend) -> None:
    from tests.fake_slack import FakeSlack

    services = services_at(backend.location("deliver.db"), embedder)
    store = services.store
    papers = synthetic_papers(10, seed=9)
    store.papers.upsert(papers)
    for c in range(100):
        channel = f"C{c:03d}"
        sub = store.subscriptions.add(owner="U1", target=channel, topic="t", embedding=[1.0])
        for paper in papers:
            store.alerts.enqueue(
                target=channel,
                paper_id=paper.id,
                subscription_id=sub.id,
                score=0.6,
                matches=[{"subscription_id": sub.id, "topic": "t", "score": 0.6}],
            )
    settings = services.settings.delivery
    bound = (len(papers) - 1) * settings.channel_interval_seconds + 1
    with FakeSlack() as slack:
        client = make_slack_client("xoxb-bench", slack.base_url)
        deliverer = Deliverer(store, client, ExtractiveSummarizer(), settings)
        started = time.perf_counter()
        report = deliverer.deliver_pending()
        seconds = time.perf_counter() - started
    row(
        "deliver 1,000 alerts to 100 channels (fake Slack, 1 post/s/channel)",
        f"{report.sent} sent in {seconds:.1f} s",
        f"pacing bound {bound:.0f} s",
        f"{seconds / bound:.2f}x the bound (target <= 1.5x)",
        backend.name,
    )
    store.close()


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # The encoding candidates' libraries (torch quantization, ONNX export, onnxruntime)
    # warn about deprecated and traced APIs on every run; the table is what matters here.
    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.ERROR)
    started = time.perf_counter()
    embedder = Embedder("bundled")
    embedder.load()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sqlite = Backend(SQLITE, work)
        ingest_services, texts, raw, raw_rate = bench_ingest(embedder, sqlite)
        bench_encoding(embedder, texts, raw, raw_rate, work)
        # The rest runs as paperbot does, at the configured precision; `embedder` (float32)
        # was the raw-encoding baseline.
        configured = ingest_services.embedder
        bench_matching(ingest_services, configured, sqlite)
        big_db = bench_search(ingest_services, configured, sqlite)
        bench_startup(big_db, work)
        bench_delivery(configured, sqlite)
        ingest_services.store.close()
        (work / "postgres").mkdir()
        server = EmbeddedServer(work / "postgres")
        try:
            run_postgresql(server, embedder, configured, work)
        finally:
            server.stop()
    print_table(time.perf_counter() - started)


def run_postgresql(
    server: EmbeddedServer, embedder: Embedder, configured: Embedder, work: Path
) -> None:
    """Ingest, matching, search and delivery on PostgreSQL, as they ran on SQLite.

    If the server did not start, or a benchmark fails, the rows it would have filled say
    why in the PostgreSQL column, and the rest still run.
    """
    postgresql = Backend(POSTGRESQL, work, server)

    def attempt(rows, benchmark, *args):
        if server.error:
            fill(rows, f"not run: PostgreSQL did not start ({server.error})")
            return None
        try:
            return benchmark(*args)
        except Exception as error:
            logging.getLogger(__name__).exception("%s on PostgreSQL failed", benchmark.__name__)
            fill(rows, f"failed: {type(error).__name__}: {error}")
            return None

    ingest = attempt(("ingest ", "re-ingest "), bench_ingest, embedder, postgresql)
    if ingest is not None:
        ingest_services = ingest[0]
        attempt(("match ",), bench_matching, ingest_services, configured, postgresql)
        attempt(("search ",), bench_search, ingest_services, configured, postgresql)
        ingest_services.store.close()
    else:
        fill(("match ", "search "), "not run: the PostgreSQL ingest it starts from failed")
    attempt(("deliver ",), bench_delivery, configured, postgresql)


def fill(prefixes: tuple[str, ...], reason: str) -> None:
    """`reason` in the PostgreSQL cell of the rows starting with one of `prefixes` that
    have none yet."""
    reason = " ".join(reason.split())  # a server's message can run over several lines
    for name, cells in ROWS.items():
        if name.startswith(prefixes):
            cells.setdefault(POSTGRESQL, reason)


def print_table(seconds: float) -> None:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line),
        "?",
    )
    print(f"machine: {os.cpu_count()} CPUs, {cpu}; whole run {seconds:.0f} s\n")
    header = ("benchmark", SQLITE, POSTGRESQL, "baseline (same run)", "vs target")
    lines = [(name, *side_by_side(cells)) for name, cells in ROWS.items()]
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *lines]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def side_by_side(cells: dict[str, tuple[str, str, str] | str]) -> tuple[str, str, str, str]:
    """The SQLite and PostgreSQL figures of one row, then its baseline and verdict: once
    if only one backend was measured, else each backend's, named."""
    measured = {b: cells[b] for b in BOTH if isinstance(cells.get(b), tuple)}
    values = [c[0] if isinstance(c, tuple) else c for c in (cells.get(b, "-") for b in BOTH)]
    rest = []
    for i in (1, 2):
        texts = {b: c[i] for b, c in measured.items()}
        if len(set(texts.values())) <= 1:
            rest.append(next(iter(texts.values()), "-"))
        else:
            rest.append("; ".join(f"{b}: {text}" for b, text in texts.items()))
    return values[0], values[1], rest[0], rest[1]


if __name__ == "__main__":
    main()
