"""Category and department recommendation (事项分类推荐, 处置部门推荐; spec 5.2.7): from a
problem's description, the three likeliest minor classes with their probabilities, each with
the department the responsibility manual names for it (at the place, when one is given).

- **The model**: TF-IDF over character n-grams (Chinese has no spaces; n-grams also survive a
  homophone slip elsewhere in the word) and a linear model, a scikit-learn pipeline. The
  candidates compared are in `CANDIDATES` (bench/recommend.py; numbers in bench/README.md).
- **Trained on the case history**: the description and the final minor class of every
  registered case (the centre confirmed the class). Below `CASES_RECOMMEND_MIN_HISTORY` cases
  the generated corpus (`cases.demo.complaints`) is added, so a new city starts with a model.
- **Versioned files**: each training writes ``recommend-v<N>.joblib`` (the next N, claimed with
  an exclusive link so two trainings never share one) under `CASES_RECOMMEND_DIR`, and keeps
  the last `KEEP` versions. Each process loads the newest once and again when a newer one
  appears (one listing of the small directory a call tells).
- **Retraining**: beat's nightly `cases.train_recommend_model`, `manage.py train_recommend`,
  and `make run` trains one at first start when there is none.

scikit-learn is imported only here, inside functions, so a web worker pays for it only when a
recommendation is asked (the URLconf never imports it).
"""

from __future__ import annotations

import os
import re
from collections import Counter
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from data.models import Category

from .categories import recommended_department
from .models import Case, ManualEntry, State

FILE_PATTERN = re.compile(r"^recommend-v(\d+)\.joblib$")
KEEP = 3  # versions kept on disk
MIN_PER_CLASS = 3  # rows a class needs to be learnt (the calibration's 3 folds)
DEFAULT_CANDIDATE = "char13_svm"
# States of a case whose class the centre confirmed by registering it.
REGISTERED = (
    State.TO_DISPATCH,
    State.HANDLING,
    State.TO_CHECK,
    State.CHECKING,
    State.TO_CLOSE,
    State.CLOSED,
)


def label(kind: str, code: str) -> str:
    """Gives the model's label of a minor class: ``event:0102``."""
    return f"{kind}:{code}"


# --- the candidates ----------------------------------------------------------------------------


def _char_tfidf(low: int, high: int):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char", ngram_range=(low, high), sublinear_tf=True, min_df=2)


def _logreg(low: int, high: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(_char_tfidf(low, high), LogisticRegression(C=20, max_iter=300))


def _svm(low: int, high: int, ensemble: bool):
    """A linear SVM with sigmoid-calibrated probabilities: with ``ensemble`` false one SVM on
    all rows and the calibration learnt from 3 folds' held-out scores (one model to ask)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    calibrated = CalibratedClassifierCV(LinearSVC(C=0.5), cv=3, ensemble=ensemble)
    return make_pipeline(_char_tfidf(low, high), calibrated)


def _naive_bayes(low: int, high: int):
    from sklearn.naive_bayes import ComplementNB
    from sklearn.pipeline import make_pipeline

    return make_pipeline(_char_tfidf(low, high), ComplementNB(alpha=0.3))


# name → a fresh unfitted pipeline; each gives predict_proba. bench/recommend.py compares them
# (bench/README.md "Category recommendation"): the SVM on 1–3-grams is as accurate as any and
# its probabilities are the closest to how often it is right, which automatic dispatch needs.
CANDIDATES = {
    "char13_svm": lambda: _svm(1, 3, ensemble=False),
    "char24_svm3": lambda: _svm(2, 4, ensemble=True),
    "char13_logreg": lambda: _logreg(1, 3),
    "char13_nb": lambda: _naive_bayes(1, 3),
}


# --- training ----------------------------------------------------------------------------------


def history() -> list[tuple[str, str]]:
    """Gives (description, label) of every registered case with a description."""
    rows = (
        Case.objects.filter(state__in=REGISTERED)
        .exclude(description="")
        .values_list("description", "category__kind", "category__code")
    )
    return [(text, label(kind, code)) for text, kind, code in rows.iterator(chunk_size=5000)]


def corpus(count: int, seed: int = 1) -> list[tuple[str, str]]:
    """Gives `count` generated (description, label) pairs, at least 20 of each class, drawn
    with the demo history's class frequencies."""
    from .demo.complaints import Corpus
    from .demo.plan import CLASS_WEIGHTS, DEFAULT_WEIGHT

    classes = Corpus().classes
    weights = {key: CLASS_WEIGHTS.get(key, DEFAULT_WEIGHT) for key in classes}
    rows = Corpus(seed=seed, weights=weights).sample(count, floor=20)
    return [(text, label(*key)) for text, key in rows]


def training_rows() -> tuple[list[tuple[str, str]], str]:
    """Gives the rows to train on and where they come from (``history`` alone when there is
    enough of it, else ``corpus+history``)."""
    rows = history()
    if len(rows) >= settings.CASES_RECOMMEND_MIN_HISTORY:
        return rows, "history"
    return corpus(settings.CASES_RECOMMEND_CORPUS) + rows, "corpus+history"


def fit(rows: list[tuple[str, str]], candidate: str = DEFAULT_CANDIDATE):
    """Gives the pipeline `candidate` fitted to `rows` (text, label), leaving out the classes
    with fewer than `MIN_PER_CLASS` rows (too few to calibrate; never recommended until then)."""
    counts = Counter(lab for _, lab in rows)
    rows = [row for row in rows if counts[row[1]] >= MIN_PER_CLASS]
    pipeline = CANDIDATES[candidate]()
    pipeline.fit([text for text, _ in rows], [lab for _, lab in rows])
    return pipeline


def train(
    rows: list[tuple[str, str]] | None = None,
    source: str = "",
    candidate: str = DEFAULT_CANDIDATE,
) -> dict:
    """Fits a model (on `rows`, default `training_rows()`) and saves it as the next version;
    gives its metadata (version, path, source, samples, classes, seconds)."""
    started = time.perf_counter()
    if rows is None:
        rows, source = training_rows()
    if sum(n >= MIN_PER_CLASS for n in Counter(lab for _, lab in rows).values()) < 2:
        raise ValueError(f"a model needs {MIN_PER_CLASS} cases of two classes at least")
    pipeline = fit(rows, candidate)
    meta = {
        "candidate": candidate,
        "source": source or "given",
        "samples": len(rows),
        "classes": len(pipeline.classes_),
        "trained_at": time.time(),
        "seconds": round(time.perf_counter() - started, 2),
    }
    path = save(pipeline, meta)
    return {**meta, "version": version_of(path), "path": str(path)}


# --- files -------------------------------------------------------------------------------------


def model_dir() -> Path:
    return Path(settings.CASES_RECOMMEND_DIR)


def version_of(path: Path) -> int:
    match = FILE_PATTERN.match(path.name)
    return int(match.group(1)) if match else 0


def versions() -> list[Path]:
    """Gives the model files, oldest version first."""
    try:
        names = os.listdir(model_dir())
    except FileNotFoundError:
        return []
    paths = [model_dir() / n for n in names if FILE_PATTERN.match(n)]
    return sorted(paths, key=version_of)


def latest_path() -> Path | None:
    paths = versions()
    return paths[-1] if paths else None


def save(pipeline, meta: dict) -> Path:
    """Writes the model as the next version: a temporary file first, then an exclusive link to
    the version's name (taken by someone else: the next number), so no reader ever sees half a
    file and two trainings never overwrite each other. Keeps the last `KEEP` versions."""
    import joblib

    directory = model_dir()
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".training-", suffix=".joblib")
    os.close(fd)
    try:
        joblib.dump({"pipeline": pipeline, "meta": meta}, tmp)
        number = version_of(latest_path() or Path()) + 1
        while True:
            path = directory / f"recommend-v{number}.joblib"
            try:
                os.link(tmp, path)
                break
            except FileExistsError:
                number += 1
    finally:
        os.unlink(tmp)
    for old in versions()[:-KEEP]:
        old.unlink(missing_ok=True)
    return path


@dataclass
class Loaded:
    path: Path
    pipeline: object
    meta: dict

    def __post_init__(self) -> None:
        self.predict_proba = fast_predict_proba(self.pipeline)


def fast_predict_proba(pipeline):
    """Gives a function of texts → the pipeline's `predict_proba`, the same numbers, computed
    at once for all classes when the model is one sigmoid-calibrated linear model (sklearn asks
    its 83 calibrators one by one: ~3.5 ms a text against ~0.5 ms here); else the pipeline's
    own."""
    import numpy as np
    from scipy.special import expit

    final = pipeline[-1]
    calibrated = getattr(final, "calibrated_classifiers_", None)
    if not calibrated or len(calibrated) != 1 or len(final.classes_) < 3:
        return pipeline.predict_proba
    inner = calibrated[0]
    if inner.method != "sigmoid" or not hasattr(inner.estimator, "decision_function"):
        return pipeline.predict_proba
    a = np.array([c.a_ for c in inner.calibrators])
    b = np.array([c.b_ for c in inner.calibrators])
    columns = np.searchsorted(inner.classes, inner.estimator.classes_)
    vectorizer = pipeline[:-1]

    def predict_proba(texts):
        scores = inner.estimator.decision_function(vectorizer.transform(texts))
        proba = np.zeros((scores.shape[0], len(inner.classes)))
        proba[:, columns] = expit(-(a * scores + b))
        total = proba.sum(axis=1, keepdims=True)
        uniform = np.full_like(proba, 1 / len(inner.classes))
        proba = np.divide(proba, total, out=uniform, where=total != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    return predict_proba


_loaded: Loaded | None = None
_lock = threading.Lock()


def model() -> Loaded | None:
    """Gives the newest model, loaded once per process and again when a newer version is
    written; None when none was ever trained."""
    global _loaded
    path = latest_path()
    if path is None:
        return None
    current = _loaded
    if current is not None and current.path == path:
        return current
    import joblib

    with _lock:
        if _loaded is None or _loaded.path != path:
            try:
                data = joblib.load(path)
            except FileNotFoundError:  # pruned meanwhile by a newer training
                return _loaded
            _loaded = Loaded(path, data["pipeline"], data["meta"])
        return _loaded


# --- recommending -----------------------------------------------------------------------------


def probabilities(text: str, kind: str | None = None) -> list[tuple[str, float]]:
    """Gives (label, probability) of every class (of `kind` when given), likeliest first; empty
    without a model or a text. Probabilities are the model's over all classes, not renormalized
    within a kind: they sum to at most 1."""
    loaded = model()
    if loaded is None or not text.strip():
        return []
    row = loaded.predict_proba([text])[0]
    pairs = zip(loaded.pipeline.classes_, row.tolist(), strict=True)
    if kind:
        pairs = ((lab, p) for lab, p in pairs if lab.startswith(kind + ":"))
    return sorted(pairs, key=lambda pair: -pair[1])


def recommend(
    text: str, kind: str | None = None, limit: int = 3, area_codes: list[str] | None = None
) -> list[dict]:
    """Gives the `limit` likeliest minor classes for a description: ``{kind, code, name,
    probability, department}`` each, the department (``{code, name}`` or None) the manual names
    for the class at the place whose district / street / community codes are `area_codes`
    (else the citywide entry). Empty when no model has been trained yet."""
    top = probabilities(text, kind)[:limit]
    if not top:
        return []
    keys = [lab.split(":", 1) for lab, _ in top]
    categories = {
        (c.kind, c.code): c
        for c in Category.objects.filter(parent__isnull=False, code__in=[c for _, c in keys])
    }
    result = []
    for (lab, probability), (kind_, code) in zip(top, keys, strict=True):
        category = categories.get((kind_, code))
        if category is None:  # a class deleted since training
            continue
        entry = recommended_department(category, area_codes or [])
        result.append(
            {
                "kind": kind_,
                "code": code,
                "name": category.name,
                "probability": round(probability, 4),
                "department": _department(entry),
            }
        )
    return result


def _department(entry: ManualEntry | None) -> dict | None:
    if entry is None:
        return None
    return {"code": entry.department.code, "name": entry.department.name}


def confident(case: Case) -> float | None:
    """Gives the model's probability of the case's own class from its description when it is
    at least `CASES_RECOMMEND_AUTO_DISPATCH` (automatic dispatch by confidence); None when the
    setting is off, there is no model, or the model is less sure."""
    threshold = settings.CASES_RECOMMEND_AUTO_DISPATCH
    if threshold <= 0 or not case.description:
        return None
    wanted = label(case.category.kind, case.category.code)
    probability = dict(probabilities(case.description, case.category.kind)).get(wanted)
    if probability is None or probability < threshold:
        return None
    return round(probability, 4)
