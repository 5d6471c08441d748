"""Shared fixtures: a small deterministic demo city in the test database, HTTP clients, and a
real Celery worker (in a thread) consuming a queue of this test database's own."""

import os
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command

TEST_CITY = {"seed": 1, "scale": 0.05}


@pytest.fixture(scope="session", autouse=True)
def _isolate_shared_services(django_db_modify_db_settings):
    """Keys and queues of this test database never meet those of another run."""
    from django.conf import settings

    from celery import current_app as app

    name = settings.DATABASES["default"]["TEST"]["NAME"]
    settings.CACHES["default"]["KEY_PREFIX"] = name
    from django.core.cache import cache

    cache.key_prefix = name  # the cache object may already exist with the old prefix
    app.conf.task_default_queue = name
    settings.CITYGRID_EVENTS_PREFIX = name
    os.environ.setdefault("CITYGRID_CELERY_QUEUE", name)
    # No test reads the recommendation model `make run` trained in var/ (servers started by a
    # test inherit the directory); a test that needs one trains it.
    models = tempfile.mkdtemp(prefix=f"{name}-recommend-")
    settings.CASES_RECOMMEND_DIR = Path(models)
    os.environ["CITYGRID_CASES_RECOMMEND_DIR"] = models


@pytest.fixture(autouse=True)
def _fresh_auth_caches():
    """Each test starts with empty per-process caches of sessions, users, tokens and scopes
    (accounts/authcache.py): a rolled-back test's rows must not outlive it."""
    from accounts import authcache

    authcache.clear()
    yield
    authcache.clear()


@pytest.fixture(scope="session")
def _city_committed(django_db_setup, django_db_blocker):
    """Generates the demo city once, committed, into the test database (kept by --reuse-db;
    pass --create-db after changing the generator)."""
    from django.conf import settings
    from django.db import connection

    # pytest-django sets up the test database only when a collected test is marked django_db;
    # without one this connection is the dev database, which must never get the test city.
    if connection.settings_dict["NAME"] != settings.DATABASES["default"]["TEST"]["NAME"]:
        pytest.fail("the city fixture needs a test marked django_db (or using db) in the run")
    with django_db_blocker.unblock():
        call_command("demo_city", if_empty=True, verbosity=0, **TEST_CITY)


@pytest.fixture
def city(_city_committed, django_db_blocker):
    """The demo city at a small scale. A transactional test flushes the database when it ends
    (pytest-django runs those last), so this generates the city again when it is gone."""
    from spatial.models import UnitGrid

    with django_db_blocker.unblock():
        if not UnitGrid.objects.filter(code__startswith="110108").exists():
            call_command("demo_city", if_empty=True, verbosity=0, **TEST_CITY)
    return TEST_CITY


@pytest.fixture
def api(client):
    return client


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker on the real Redis broker, running in a thread for one test."""
    from celery.contrib.testing.worker import start_worker

    from celery import current_app as app

    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield app
