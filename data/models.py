"""Code tables: component and event categories (大小类, CJ/T 214), loaded from data files."""

from django.db import models


class Category(models.Model):
    """A major (大类) or minor (小类) class of components (部件) or events (事件)."""

    class Kind(models.TextChoices):
        COMPONENT = "component", "部件"
        EVENT = "event", "事件"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    code = models.CharField(max_length=4, help_text="2 digits for a major class, 4 for a minor one")
    name = models.CharField(max_length=64)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    default_department = models.CharField(max_length=64, blank=True)
    handling_limit_hours = models.PositiveIntegerField(
        null=True, blank=True, help_text="handling time limit in working hours"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="category_kind_code")]
        ordering = ["kind", "code"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code} {self.name}"

    @property
    def is_major(self) -> bool:
        return self.parent_id is None
