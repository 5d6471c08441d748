"""The default deduction items of quality scores (扣分项); an administrator edits them."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    ("not_fixed", "处置不到位", "20"),
    ("photo_unclear", "处置照片不清晰", "5"),
    ("photo_mismatch", "处置前后照片不对应", "10"),
    ("reply_irregular", "反馈意见不规范", "5"),
    ("overdue", "超期处置", "10"),
    ("wrong_category", "案件分类错误", "5"),
]


def add(apps, schema_editor):
    item = apps.get_model("evaluation", "DeductionItem")
    for code, name, points in DEFAULTS:
        item.objects.get_or_create(code=code, defaults={"name": name, "points": Decimal(points)})


def remove(apps, schema_editor):
    apps.get_model("evaluation", "DeductionItem").objects.filter(
        code__in=[c for c, _, _ in DEFAULTS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0002_quality_sampling")]

    operations = [migrations.RunPython(add, remove)]
