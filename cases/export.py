"""Excel export of a case list (案件导出): the caller's cases matching the list's filters, as an
.xlsx written by openpyxl, optionally with the report-stage photos as thumbnails.

Up to ``CASES_EXPORT_DIRECT`` rows are written in the request; more become a job
(`core.jobs`, started by `cases.actions.do_export_cases`) that runs as the caller and writes
the file under the upload root, downloaded from ``/api/v1/cases/exports/{job}``. Both paths
read `queries.case_list`, so a file holds exactly what the list shows the caller. Reporter
columns are there only for callers who see every case's reporter (`visibility`).

The workbook is written in openpyxl's write-only mode, so rows are streamed; thumbnails are
kept until the file is saved, which is why exports with photos have a lower row limit.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.scoping import Scope
from core.errors import TooLarge
from core.jobs import JobRun, dispatch, new_job
from core.models import Job
from data.models import Category

if TYPE_CHECKING:  # openpyxl is imported by the export itself, not by every web worker
    from openpyxl.drawing.image import Image as SheetImage

from . import queries, visibility
from .models import Case, CaseMedia

log = logging.getLogger(__name__)

JOB_KIND = "cases_export"
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [
    "任务号",
    "来源",
    "类型",
    "大类",
    "小类",
    "问题描述",
    "地址",
    "区",
    "街道",
    "社区",
    "单元网格",
    "状态",
    "处置部门",
    "上报时间",
    "处置时限",
    "时限状态",
    "结案时间",
]
REPORTER_HEADERS = ["举报人", "联系电话"]
WIDTHS = {"任务号": 17, "问题描述": 40, "地址": 28, "单元网格": 18, "处置部门": 16}
TIME_WIDTH = 17
TIME_FORMAT = "yyyy-mm-dd hh:mm"
KINDS = dict(Category.Kind.choices)
BATCH = 500
THUMBNAIL_PX = (120, 90)
PHOTO_ROW_HEIGHT = 72  # points: a 90-pixel thumbnail and a margin
PHOTO_COLUMN_WIDTH = 18


def file_name(now: dt.datetime | None = None) -> str:
    """Gives the download name of an export made now: ``cases-YYYYMMDD-HHMM.xlsx``."""
    return f"cases-{timezone.localtime(now or timezone.now()):%Y%m%d-%H%M}.xlsx"


def check_size(total: int, photos: bool) -> None:
    """Raises `TooLarge` when `total` rows are more than one file may hold."""
    limit = settings.CASES_EXPORT_MAX_WITH_PHOTOS if photos else settings.CASES_EXPORT_MAX
    if total > limit:
        what = "with photos " if photos else ""
        raise TooLarge(
            f"{total} cases match; an export {what}holds at most {limit}: narrow the filters",
            field="photos" if photos else None,
        )


def _local(value: dt.datetime | None):
    """Excel has no time zones: times are written as local wall-clock times."""
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _values(case: Case, reporter: bool) -> list:
    category = case.category
    major = category.parent.name if category.parent_id else ""
    values = [
        case.number,
        case.get_source_display(),
        KINDS.get(case.kind, case.kind),
        major,
        category.name,
        case.description,
        case.address,
        case.district_name,
        case.street_name,
        case.community_name,
        case.unit_grid_code,
        case.get_state_display(),
        case.department.name if case.department_id else "",
        _local(case.reported_at),
        _local(case.handling_deadline),
        case.get_deadline_state_display(),
        _local(case.closed_at),
    ]
    if reporter:
        values += [case.reporter_name, case.reporter_phone]
    return values


def _thumbnail(media: CaseMedia) -> SheetImage | None:
    """Gives a small JPEG of a photo for the sheet, or None when the file cannot be read."""
    from openpyxl.drawing.image import Image as SheetImage
    from PIL import Image, UnidentifiedImageError

    try:
        with media.file.open("rb") as fh, Image.open(fh) as picture:
            picture.thumbnail(THUMBNAIL_PX)
            size = picture.size
            data = io.BytesIO()
            picture.convert("RGB").save(data, "JPEG", quality=75)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        log.warning("case photo %s left out of an export: %s", media.pk, exc)
        return None
    data.seek(0)
    image = SheetImage(data)
    image.width, image.height = size
    return image


def _photos_of(case_ids: list[int]) -> dict[int, list[CaseMedia]]:
    """Gives the first report-stage photos of each case (one query for a batch)."""
    found: dict[int, list[CaseMedia]] = {}
    media = CaseMedia.objects.filter(
        case_id__in=case_ids, stage=CaseMedia.Stage.REPORT, content_type__startswith="image/"
    ).order_by("case_id", "uploaded_at", "id")
    for item in media:
        kept = found.setdefault(item.case_id, [])
        if len(kept) < settings.CASES_EXPORT_PHOTOS_PER_CASE:
            kept.append(item)
    return found


def _batches(cases: Iterable[Case]) -> Iterator[list[Case]]:
    rows = iter(cases)
    while batch := list(islice(rows, BATCH)):
        yield batch


def write_workbook(
    scope: Scope,
    cases: QuerySet,
    target,
    photos: bool,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Writes the cases (a `queries.case_list`) to `target` (a path or a binary file) as one
    sheet; gives the number of rows written."""
    # Reporter columns for callers who see the reporter of a case they did not report (the
    # centre), not for those who see only their own reports' (inspectors, the public).
    reporter = visibility.sees_reporter(scope, Case(reported_by_id=None))
    headers = HEADERS + (REPORTER_HEADERS if reporter else [])
    if photos:
        headers += [f"照片{n + 1}" for n in range(settings.CASES_EXPORT_PHOTOS_PER_CASE)]
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("案件")
    for n, header in enumerate(headers, 1):
        width = WIDTHS.get(header, TIME_WIDTH if header.endswith(("时间", "时限")) else 10)
        if header.startswith("照片"):
            width = PHOTO_COLUMN_WIDTH
        sheet.column_dimensions[get_column_letter(n)].width = width
    sheet.freeze_panes = "B2"
    sheet.append(headers)
    first_photo_column = len(headers) - settings.CASES_EXPORT_PHOTOS_PER_CASE + 1
    row = 1
    for batch in _batches(cases.iterator(chunk_size=BATCH)):
        pictures = _photos_of([c.pk for c in batch]) if photos else {}
        for case in batch:
            row += 1
            cells = []
            for value in _values(case, reporter):
                if isinstance(value, dt.datetime):
                    value = WriteOnlyCell(sheet, value=value)
                    value.number_format = TIME_FORMAT
                cells.append(value)
            if photos:
                sheet.row_dimensions[row].height = PHOTO_ROW_HEIGHT
                for n, media in enumerate(pictures.get(case.pk, [])):
                    image = _thumbnail(media)
                    if image is not None:
                        sheet.add_image(image, f"{get_column_letter(first_photo_column + n)}{row}")
            sheet.append(cells)
            if progress is not None:
                progress(row - 1)
    book.save(target)
    return row - 1


def export_bytes(scope: Scope, cases: QuerySet, photos: bool) -> bytes:
    """Gives the .xlsx of the cases, written in memory (the direct path)."""
    out = io.BytesIO()
    write_workbook(scope, cases, out, photos)
    return out.getvalue()


def export_dir() -> Path:
    path = Path(settings.UPLOAD_DIR) / "case-exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_export(scope: Scope, query: dict, photos: bool, total: int, sync: bool = False) -> Job:
    """Gives the job exporting the caller's cases matching `query` (the list's parameters);
    queued on Celery after commit unless `sync`."""
    job = new_job(
        JOB_KIND,
        scope,
        {"query": query, "photos": photos, "file_name": file_name()},
        rows_total=total,
    )
    from .tasks import export_cases

    return dispatch(job, export_cases, sync=sync)


def run_export(run: JobRun) -> dict:
    """Writes the job's export file as its owner sees the cases now (the body
    `core.jobs.run_job` runs); gives the report."""
    job = run.job
    chosen = queries.CaseFilter.from_query(job.params["query"])
    photos = bool(job.params.get("photos"))
    cases = queries.case_list(run.scope, chosen)
    total = cases.count()
    check_size(total, photos)
    run.progress(0, total)
    path = export_dir() / f"{job.pk}.xlsx"
    run.leaves(path=path)
    written = write_workbook(run.scope, cases, path, photos, progress=run.progress)
    Job.objects.filter(pk=job.pk).update(result_path=str(path))
    run.progress(written, written)
    return {"rows": written, "photos": photos}
