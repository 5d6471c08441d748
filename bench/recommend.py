"""The category recommendation (cases/recommend.py): top-1 / top-3 accuracy, training time and
prediction latency of each candidate pipeline on a held-out split of the generated corpus
(cases/demo/complaints.py), then the demo case history: the chosen model trained on the corpus
and asked the history's descriptions, and trained on 80 % of the history and asked the rest
and the corpus.

    .venv/bin/python bench/recommend.py [--db citygrid] [--corpus 10000] [--seed 1]

Read-only for the database (the history is read; no model file is written).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.tiles import django_setup  # noqa: E402


def split(rows: list, share: float, seed: int) -> tuple[list, list]:
    """Gives (train, test) with `share` of each label in test (at least one when it has 2+)."""
    by_label: dict[str, list] = {}
    for row in rows:
        by_label.setdefault(row[1], []).append(row)
    rng = random.Random(seed)
    train, test = [], []
    for group in by_label.values():
        rng.shuffle(group)
        cut = max(1, round(len(group) * share)) if len(group) > 1 else 0
        test += group[:cut]
        train += group[cut:]
    return train, test


def accuracy(pipeline, rows: list) -> tuple[float, float]:
    """Gives (top-1, top-3) accuracy of `pipeline` on `rows`; a label the model never saw
    counts as a miss."""
    import numpy as np

    probs = pipeline.predict_proba([text for text, _ in rows])
    classes = np.asarray(pipeline.classes_)
    top3 = classes[np.argsort(-probs, axis=1)[:, :3]]
    labels = np.asarray([lab for _, lab in rows])
    return float((top3[:, 0] == labels).mean()), float((top3 == labels[:, None]).any(1).mean())


def confidence(pipeline, rows: list, threshold: float = 0.9) -> tuple[float, float, float]:
    """Gives the expected calibration error of the top class (10 bins: how far its probability
    is from how often it is right), the share of rows whose top probability reaches
    `threshold` (what automatic dispatch would send) and the top-1 accuracy among them."""
    import numpy as np

    probs = pipeline.predict_proba([text for text, _ in rows])
    top = probs.max(axis=1)
    right = np.asarray(pipeline.classes_)[probs.argmax(axis=1)] == [lab for _, lab in rows]
    bins = np.minimum((top * 10).astype(int), 9)
    error = sum(
        (bins == b).mean() * abs(top[bins == b].mean() - right[bins == b].mean())
        for b in range(10)
        if (bins == b).any()
    )
    sure = top >= threshold
    return float(error), float(sure.mean()), float(right[sure].mean()) if sure.any() else 0.0


def latency(pipeline, texts: list[str], runs: int) -> tuple[float, float]:
    """Gives p50 and p99 in ms of one description's probabilities, as `cases.recommend` asks
    them (`fast_predict_proba`: the calibrated SVM's classes at once)."""
    from cases.recommend import fast_predict_proba

    predict_proba = fast_predict_proba(pipeline)
    times = []
    for i in range(runs):
        started = time.perf_counter()
        predict_proba([texts[i % len(texts)]])
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="citygrid")
    parser.add_argument("--corpus", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    django_setup(args.db)
    from cases import recommend

    rows = recommend.corpus(args.corpus, seed=args.seed)
    train, test = split(rows, 0.2, args.seed)
    fresh = recommend.corpus(2000, seed=args.seed + 1000)  # other draws, same generator
    texts = [text for text, _ in test]
    seen = {text for text, _ in train}
    repeated = sum(text in seen for text in texts) / len(texts)
    print(f"corpus: {len(train)} train, {len(test)} held out ({repeated:.1%} of them also in")
    print(f"train, word for word), {len(fresh)} of another seed (class-balanced: 20+ a class)")
    print(
        "candidate        train s  top-1  top-3  other-seed top-1/top-3  p50 ms  p99 ms"
        "  ECE    p>=0.9 share, top-1"
    )
    chosen = None
    for name in recommend.CANDIDATES:
        started = time.perf_counter()
        pipeline = recommend.fit(train, name)
        seconds = time.perf_counter() - started
        top1, top3 = accuracy(pipeline, test)
        other1, other3 = accuracy(pipeline, fresh)
        p50, p99 = latency(pipeline, texts, args.runs)
        error, share, sure = confidence(pipeline, fresh)
        print(
            f"{name:16} {seconds:7.1f}  {top1:.3f}  {top3:.3f}  {other1:.3f} / {other3:.3f}"
            f"            {p50:6.2f}  {p99:6.2f}  {error:.3f}  {share:.2f}, {sure:.3f}"
        )
        if name == recommend.DEFAULT_CANDIDATE:
            chosen = pipeline

    history = recommend.history()
    print(f"\ndemo history: {len(history)} registered cases with {len({h[1] for h in history})}")
    if not history:
        return
    top1, top3 = accuracy(chosen, history)
    print(f"corpus-trained {recommend.DEFAULT_CANDIDATE} on the history: {top1:.3f} / {top3:.3f}")
    h_train, h_test = split(history, 0.2, args.seed)
    started = time.perf_counter()
    on_history = recommend.fit(h_train, recommend.DEFAULT_CANDIDATE)
    seconds = time.perf_counter() - started
    top1, top3 = accuracy(on_history, h_test)
    print(f"history-trained ({len(h_train)}, {seconds:.1f} s) on held-out history: ", end="")
    print(f"{top1:.3f} / {top3:.3f}")
    top1, top3 = accuracy(on_history, test)
    print(f"history-trained on the corpus's held-out: {top1:.3f} / {top3:.3f}")
    mixed = recommend.fit(train + h_train, recommend.DEFAULT_CANDIDATE)
    print("corpus+history-trained on held-out history / corpus: ", end="")
    print(
        "{:.3f} / {:.3f}, {:.3f} / {:.3f}".format(*accuracy(mixed, h_test), *accuracy(mixed, test))
    )
    # The whole path of one recommendation: the model, the classes and the manual's departments.
    loaded = recommend.Loaded(Path("bench"), chosen, {})
    recommend.model = lambda: loaded
    times = []
    for i in range(200):
        started = time.perf_counter()
        recommend.recommend(texts[i % len(texts)])
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"recommend() with departments: p50 {statistics.median(times):.2f} ms", end="")
    print(f", p99 {times[int(len(times) * 0.99) - 1]:.2f} ms")


if __name__ == "__main__":
    main()
