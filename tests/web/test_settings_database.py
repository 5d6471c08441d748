"""DATABASE_URL and the CITYGRID_PG_* variables give the database settings an operator expects:
always PostGIS, sockets and odd passwords percent-encoded, the test database from
CITYGRID_TEST_DB."""

from web.settings import VAR_DIR, database_from_env

POSTGIS = "core.postgis"
POOLING = {"CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}


def database(url: str) -> dict:
    settings = database_from_env({"DATABASE_URL": url})
    settings.pop("DISABLE_SERVER_SIDE_CURSORS", None)  # Django's own default, False
    return settings


def test_no_url_is_the_project_local_cluster_on_its_socket():
    assert database_from_env({}) == {
        "ENGINE": POSTGIS,
        "NAME": "citygrid",
        "USER": "citygrid",
        "HOST": str(VAR_DIR / "postgres" / "run"),
        "PORT": "54329",
        **POOLING,
        "TEST": {"NAME": "test_citygrid"},
    }


def test_the_local_cluster_follows_the_scripts_variables():
    settings = database_from_env(
        {
            "CITYGRID_PG_DB": "city2",
            "CITYGRID_PG_SOCKET_DIR": "/srv/Pg/run",
            "CITYGRID_PG_PORT": "6543",
            "CITYGRID_TEST_DB": "test_citygrid_lint",
        }
    )
    assert settings["NAME"] == "city2"
    assert (settings["HOST"], settings["PORT"]) == ("/srv/Pg/run", "6543")
    assert settings["TEST"] == {"NAME": "test_citygrid_lint"}


def test_an_empty_url_is_no_url():
    assert database_from_env({"DATABASE_URL": ""})["HOST"] == str(VAR_DIR / "postgres" / "run")


def test_a_postgres_url_is_served_by_postgis():
    assert database("postgres://city:secret@db.example.org:5432/citygrid") == {
        "ENGINE": POSTGIS,
        "NAME": "citygrid",
        "USER": "city",
        "PASSWORD": "secret",
        "HOST": "db.example.org",
        "PORT": "5432",
        **POOLING,
        "TEST": {"NAME": "test_citygrid"},
    }


def test_a_postgis_url_without_port_or_password():
    assert database("postgis://city@localhost/citygrid") == {
        "ENGINE": POSTGIS,
        "NAME": "citygrid",
        "USER": "city",
        "PASSWORD": "",
        "HOST": "localhost",
        "PORT": "",
        **POOLING,
        "TEST": {"NAME": "test_citygrid"},
    }


def test_a_socket_directory_goes_percent_encoded_in_the_host():
    settings = database("postgresql://citygrid@%2Fvar%2Frun%2Fpostgresql:54329/citygrid")
    assert settings["HOST"] == "/var/run/postgresql"
    assert settings["PORT"] == "54329"
    assert settings["PASSWORD"] == ""


def test_port_and_percent_encoded_password_and_name():
    settings = database("postgres://ops%40city:p%40ss%3Aw%2Frd%25@10.0.0.5:6432/city%20grid")
    assert settings["USER"] == "ops@city"
    assert settings["PASSWORD"] == "p@ss:w/rd%"
    assert settings["HOST"] == "10.0.0.5"
    assert settings["PORT"] == "6432"
    assert settings["NAME"] == "city grid"


def test_the_query_string_reaches_libpq_as_options():
    settings = database("postgres://city@db.example.org/citygrid?sslmode=require")
    assert settings["OPTIONS"] == {"sslmode": "require"}


def test_the_test_database_name_comes_from_citygrid_test_db_with_a_url_too():
    settings = database_from_env(
        {"DATABASE_URL": "postgis://city@localhost/citygrid", "CITYGRID_TEST_DB": "test_x"}
    )
    assert settings["TEST"] == {"NAME": "test_x"}
