"""Batch geocoding (批量地理编码): a CSV of addresses → a Job → a result CSV where every input
row is kept, with standard address, match level, combination, score and coordinates, or the
reason it did not match."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.conf import settings

from core.errors import BadInput, TooLarge
from core.jobs import JobRun, dispatch
from core.models import Job

from .match import geocode

JOB_KIND = "geocode_batch"
MAX_BATCH_BYTES = 20 * 1024 * 1024
MAX_BATCH_ROWS = 200_000
ADDRESS_COLUMNS = ("address", "地址", "q", "query")
RESULT_COLUMNS = [
    "match_address",
    "match_level",
    "combination",
    "score",
    "confidence",
    "lon",
    "lat",
    "note",
]


def batch_dir() -> Path:
    path = Path(settings.UPLOAD_DIR) / "geocode"
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_rows(data: bytes) -> tuple[list[str], list[dict], str]:
    """Gives (header, rows, address column) of an uploaded CSV, or `BadInput`."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise BadInput("the file is neither UTF-8 nor GB18030 text", field="file")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    column = next((h for h in header if h.lower() in ADDRESS_COLUMNS), None)
    if column is None:
        raise BadInput(f"the CSV needs a column named one of {ADDRESS_COLUMNS}", field="file")
    reader.fieldnames = header
    rows = list(reader)
    if len(rows) > MAX_BATCH_ROWS:
        raise TooLarge(f"at most {MAX_BATCH_ROWS} rows per batch", field="file")
    return header, rows, column


def start_batch(upload, owner, sync: bool = False) -> Job:
    """Gives the job geocoding an uploaded CSV; queued on Celery after commit unless `sync`."""
    if upload is None:
        raise BadInput("upload a CSV file in the multipart field 'file'", field="file")
    if upload.size > MAX_BATCH_BYTES:
        raise TooLarge(f"the file is larger than {MAX_BATCH_BYTES} bytes", field="file")
    data = upload.read()
    _, rows, _ = read_rows(data)
    job = Job.objects.create(
        kind=JOB_KIND,
        owner=owner,
        rows_total=len(rows),
        params={"file_name": getattr(upload, "name", "upload.csv")},
    )
    path = batch_dir() / f"{job.pk}.csv"
    path.write_bytes(data)
    job.params["path"] = str(path)
    job.save(update_fields=["params"])
    from .tasks import geocode_batch

    return dispatch(job, geocode_batch, sync=sync)


def result_names(header: list[str]) -> dict[str, str]:
    """Gives the output column of each result column: its own name, or ``geocode_<name>`` (then
    numbered) when the input already has a column of that name, so no input value is lost."""
    taken = set(header)
    names = {}
    for name in RESULT_COLUMNS:
        out, n = name, 1
        while out in taken:
            out = f"geocode_{name}" if n == 1 else f"geocode_{name}_{n}"
            n += 1
        taken.add(out)
        names[name] = out
    return names


def explain(parsed) -> str:
    """Gives why a row matched nothing, from its tokens."""
    if not parsed.text:
        return "empty address"
    if parsed.foreign_area:
        return f"{parsed.foreign_area} is not in the address data"
    residue = [t.text for t in parsed.tokens if t.kind == "residue"]
    if not parsed.names and not any(t.kind == "code" for t in parsed.tokens):
        return "no known name" + (f" (unrecognised: {''.join(residue)})" if residue else "")
    if any(t.kind == "code" for t in parsed.tokens):
        return "no unit grid or component has this code"
    return "names found but no address point for them"


def run_batch(run: JobRun) -> dict:
    """Geocodes every row of the job's CSV and writes the result CSV (the body
    `core.jobs.run_job` runs); gives the report."""
    job = run.job
    levels: dict[str, int] = {}
    unmatched = 0
    header, rows, column = read_rows(Path(job.params["path"]).read_bytes())
    run.progress(0, len(rows))
    out_path = batch_dir() / f"{job.pk}.result.csv"
    names = result_names(header)
    with out_path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.DictWriter(fh, fieldnames=header + list(names.values()), extrasaction="ignore")
        writer.writeheader()
        for n, row in enumerate(rows, 1):
            parsed, cands = geocode(row.get(column) or "", limit=1, scope=run.scope)
            if cands:
                c = cands[0]
                result = dict(
                    match_address=c.address,
                    match_level=c.match_level,
                    combination=c.combination or "",
                    score=c.score,
                    confidence=c.confidence,
                    lon=round(c.lon, 7),
                    lat=round(c.lat, 7),
                    note="qualifier: " + ",".join(c.qualifier) if c.qualifier else "",
                )
                levels[c.match_level] = levels.get(c.match_level, 0) + 1
            else:
                unmatched += 1
                result = dict(match_level="unmatched", score=0, confidence=0, note=explain(parsed))
            row.update({names[k]: v for k, v in result.items()})
            writer.writerow(row)
            run.progress(n)
    Job.objects.filter(pk=job.pk).update(result_path=str(out_path))
    run.progress(len(rows), len(rows))
    return {"levels": levels, "unmatched": unmatched}
