"""The demo organization: departments, positions and one user per position for the demo city.

Every demo user has the password `citygrid-demo` and is marked `Person.demo`, so a server with
DEBUG off refuses to start while they exist (see `accounts.checks`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from spatial.models import AdminArea
from accounts import permissions as p
from accounts.areas import set_person_areas
from accounts.models import Department, LoginPolicy, Person, Position

DEMO_PASSWORD = "citygrid-demo"

# key, name (岗位), permissions, all layers
POSITIONS: list[tuple[str, str, list[str], bool]] = [
    ("acceptor", "受理员", [p.CASES_READ, p.CASES_ACCEPT, p.CASES_REPORT], True),
    (
        "shiftleader",
        "值班长",
        [
            p.CASES_READ,
            p.CASES_ACCEPT,
            p.CASES_REGISTER,
            p.CASES_DISPATCH,
            p.CASES_SUPERVISE,
            p.TRACKING_MONITOR,
            p.TRACKING_ACKNOWLEDGE,
        ],
        True,
    ),
    ("dispatcher", "派遣员", [p.CASES_READ, p.CASES_DISPATCH], True),
    ("handler", "处置人员", [p.CASES_READ, p.CASES_HANDLE], True),
    ("inspector", "监督员", [p.CASES_READ, p.CASES_REPORT], True),
    (
        "leader",
        "领导",
        [p.CASES_READ, p.CASES_SUPERVISE, p.LOGS_READ, p.TRACKING_MONITOR],
        True,
    ),
    ("gisadmin", "GIS管理员", [*p.GIS_ADMIN_PERMISSIONS, p.CASES_READ], True),
    ("evaluator", "评价员", [p.CASES_READ, p.EVALUATION_SCORE, p.EVALUATION_MANAGE], True),
    ("sysadmin", "系统管理员", [p.SYSTEM_ADMIN, p.PEOPLE_MANAGE, p.LOGS_READ], True),
]

MENUS = {
    "acceptor": ["cases/accept", "cases/search", "map"],
    "shiftleader": ["cases/accept", "cases/dispatch", "supervision", "map"],
    "dispatcher": ["cases/dispatch", "cases/search", "map"],
    "handler": ["cases/todo", "map"],
    "inspector": ["cases/report", "tasks", "map"],
    "leader": ["screen", "evaluation", "cases/search", "map"],
    "gisadmin": ["layers", "mapconfig", "styles", "geocoding", "map"],
    "evaluator": ["evaluation", "map"],
    "sysadmin": ["organization", "logs", "layers", "map"],
}

# key, name, code suffix: the handling departments (专业处置部门)
HANDLING = [
    ("shizheng", "市政管理委员会"),
    ("yuanlin", "园林绿化局"),
    ("huanwei", "环境卫生服务中心"),
    ("jiaotong", "交通委员会"),
    ("shuiwu", "水务局"),
    ("gongdian", "供电公司"),
    ("chengguan", "城市管理综合执法局"),
    ("zhujian", "住房和城乡建设委员会"),
    ("ranqi", "燃气集团"),
    ("reli", "热力集团"),
    ("yingji", "应急管理局"),
    ("tongxin", "通信管理局"),
    ("xiaofang", "消防救援支队"),
    ("youzheng", "邮政公司"),
    ("renfang", "人民防空办公室"),
    ("gongan", "公安分局"),
]

# username, display name, position key
CITY_USERS = [
    ("gisadmin", "GIS管理员", "gisadmin"),
    ("acceptor", "受理员", "acceptor"),
    ("shiftleader", "值班长", "shiftleader"),
    ("dispatcher", "派遣员", "dispatcher"),
    ("leader", "领导", "leader"),
    ("evaluator", "评价员", "evaluator"),
]


@dataclass
class DemoUser:
    username: str
    name: str
    positions: str
    department: str
    areas: str


def _department(code: str, name: str, kind: str, parent=None, area=None, order=100) -> Department:
    dept, _ = Department.objects.update_or_create(
        code=code,
        defaults={"name": name, "kind": kind, "parent": parent, "area": area, "sort_order": order},
    )
    return dept


def _person(
    username: str, name: str, department, positions, areas, password: str, superuser=False
) -> Person:
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        user = user_model(username=username, password=password)
    user.is_superuser = user.is_staff = superuser
    user.is_active = True
    user.save()
    person, _ = Person.objects.update_or_create(
        user=user, defaults={"name": name, "department": department, "demo": True}
    )
    person.positions.set(positions)
    return set_person_areas(person, areas)


@transaction.atomic
def build_demo_organization() -> list[Person]:
    """Gives the demo people after creating or updating the demo organization (idempotent)."""
    LoginPolicy.current()
    positions = {}
    for order, (key, name, grants, all_layers) in enumerate(POSITIONS):
        positions[key], _ = Position.objects.update_or_create(
            key=key,
            defaults={
                "name": name,
                "permissions": grants,
                "all_layers": all_layers,
                "menus": MENUS.get(key, []),
                "sort_order": order,
            },
        )
    districts = list(AdminArea.objects.filter(level=AdminArea.Level.DISTRICT))
    streets = list(AdminArea.objects.filter(level=AdminArea.Level.STREET).select_related("parent"))
    centre = _department(
        "CITY", "城市运行管理服务指挥中心", Department.Kind.COMMAND_CENTRE, order=0
    )
    district_depts = {
        d.pk: _department(
            f"D{d.code}",
            f"{d.name}城市管理指挥中心",
            Department.Kind.DISTRICT_CENTRE,
            centre,
            d,
            10,
        )
        for d in districts
    }
    # One argon2 hash for every demo user: the password is public anyway, and hashing it once
    # keeps the command fast.
    hashed = make_password(DEMO_PASSWORD)
    people = [
        _person("admin", "系统管理员", centre, [positions["sysadmin"]], districts, hashed, True)
    ]
    for username, name, key in CITY_USERS:
        people.append(_person(username, name, centre, [positions[key]], districts, hashed))
    for order, (key, name) in enumerate(HANDLING):
        dept = _department(f"H-{key}", name, Department.Kind.HANDLING, centre, order=50 + order)
        people.append(
            _person(
                f"dept-{key}", f"{name}处置人员", dept, [positions["handler"]], districts, hashed
            )
        )
    for street in streets:
        parent = district_depts.get(street.parent_id, centre)
        office = _department(
            f"S{street.code}", f"{street.name}办事处", Department.Kind.STREET_OFFICE, parent, street
        )
        people.append(
            _person(
                f"inspector-{street.code}",
                f"{street.name}监督员",
                office,
                [positions["inspector"]],
                [street],
                hashed,
            )
        )
    return people


def describe(people: list[Person]) -> list[DemoUser]:
    """Gives one printable row per demo person."""
    rows = []
    for person in people:
        areas = [a.code for a in person.admin_areas.all()]
        rows.append(
            DemoUser(
                username=person.user.get_username(),
                name=person.name,
                positions=",".join(pos.key for pos in person.positions.all()),
                department=person.department.name if person.department else "",
                areas=",".join(areas) if len(areas) <= 3 else f"{len(areas)} areas",
            )
        )
    return rows
