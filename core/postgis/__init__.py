"""The database backend (`ENGINE = "core.postgis"`): Django's PostGIS backend with a health
check that costs no round trip while the connection is idle and well (`base.py`)."""
