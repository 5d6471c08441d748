from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases and their workflow"

    def ready(self):
        from django.db.models.signals import post_delete, post_migrate, post_save

        from spatial.models import AdminArea

        from . import models
        from .applications import load_default_approval_rules
        from .categories import load_case_defaults
        from .phrases import load_default_phrases
        from .visibility import forget_districts
        from .workflows import clear_cache, load_default_workflows

        from core.workload import register_open_work
        from spatial.ogc.collections import register

        from .ogc import CaseCollection

        register(CaseCollection())  # the OGC API collection `cases`, for callers who read cases
        # Busy (忙碌) in tracking's live status: an inspector's open verify / check tasks.
        register_open_work(
            "cases.tasks",
            "SELECT count(*) FROM cases_casetask t WHERE t.assignee_id = {user} "
            "AND t.done_at IS NULL",
        )
        post_migrate.connect(load_default_workflows, sender=self)
        post_migrate.connect(load_case_defaults, sender=self)
        post_migrate.connect(load_default_approval_rules, sender=self)
        post_migrate.connect(load_default_phrases, sender=self)
        for model in (models.Workflow, models.WorkflowStage, models.WorkflowTransition):
            post_save.connect(
                lambda **kwargs: clear_cache(), sender=model, weak=False, dispatch_uid=str(model)
            )
        post_save.connect(forget_districts, sender=AdminArea, dispatch_uid="cases-districts")
        post_delete.connect(forget_districts, sender=AdminArea, dispatch_uid="cases-districts-d")
