"""The public service (公众服务系统, spec 7): Open311 GeoReport v2 for mini-programs and city
apps, citizens' accounts and "my cases", ratings, moderation and the public map's data.

A public report is a case (source 公众) made by the case's own report action and precheck;
what the public reads of any case comes from `publication`. See docs/public-service.md.
"""
