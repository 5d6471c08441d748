"""The category recommendation (事项分类推荐, spec 5.2.7): the API's refusals and answers, a model
trained from a case history recognizing sentences it never saw, retraining by the Celery job,
and automatic dispatch above the configured confidence."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import Department
from cases import recommend
from cases.models import Case, CaseEvent, ManualEntry
from data.models import Category
from spatial.models import AdminArea
from tests.cases.conftest import inside
from tests.cases.test_main_path import act, condition_id, report

URL = "/api/v1/cases/recommend"

# A fixture history: how people described six clear classes (written here, not generated).
HISTORY = {
    ("event", "0201"): [
        "电线杆上贴满了办证小广告",
        "墙上被人喷了很多电话号码",
        "单元门口贴了好多开锁广告",
        "公交站牌上全是小广告",
        "小区围墙上的牛皮癣没人清理",
        "楼道里贴满了贷款小广告",
        "配电箱上贴着办证的广告纸",
        "人行道地面喷涂了广告电话",
        "路灯杆上的小广告一层叠一层",
        "桥墩上被喷了办证号码",
    ],
    ("event", "0504"): [
        "轿车停在人行道上挡路",
        "私家车把消防通道堵死了",
        "小区门口违停的车太多",
        "路口有辆货车乱停",
        "汽车停在盲道上",
        "机动车占用非机动车道停放",
        "出租车在公交站台违停",
        "几辆车横着停把路堵了",
        "车辆停在斑马线上",
        "面包车长期占道停放",
    ],
    ("event", "0506"): [
        "晚上有人在路边烧烤",
        "烧烤摊的油烟呛得人受不了",
        "夜市露天烤串烟很大",
        "店家在门外支起烤炉烤肉",
        "广场边上有人摆烧烤摊",
        "楼下烧烤摊一直开到凌晨",
        "露天烧烤烟熏火燎",
        "人行道上有人烤羊肉串",
        "烧烤炉放在马路边上",
        "夜宵店在外面烧烤油烟扰民",
    ],
    ("component", "0111"): [
        "路灯坏了晚上一片黑",
        "这条街的路灯都不亮",
        "路灯白天一直亮着",
        "路灯一闪一闪的",
        "路灯杆被车撞歪了",
        "路灯的灯罩掉下来了",
        "好几盏路灯不亮",
        "路灯电线露在外面",
        "路灯晚上不开",
        "路灯灯泡烧了",
    ],
    ("component", "0305"): [
        "垃圾桶盖子没有了",
        "果皮箱被烧坏了",
        "路边的垃圾桶倒了",
        "分类垃圾桶被人偷走了",
        "垃圾箱底部烂穿了",
        "垃圾桶破了一个大洞",
        "果皮箱歪倒在路边",
        "垃圾箱的桶身裂了",
        "公园的垃圾桶坏了",
        "垃圾桶的脚踏坏了",
    ],
    ("event", "0406"): [
        "下雨后路面积水很深",
        "路口积水没过膝盖",
        "一下雨就积水车过不去",
        "地道里积水了",
        "小区门口积水出不去",
        "雨后人行道上一片积水",
        "积水漫进了商铺",
        "马路积水像条河",
        "桥下积水很深",
        "暴雨后路面被淹",
    ],
}
# Sentences of the same classes the model never saw.
HELD_OUT = {
    "学校门口的电线杆上又贴了小广告": ("event", "0201"),
    "有辆车停在人行道上不走": ("event", "0504"),
    "有人在楼下烧烤，油烟太大": ("event", "0506"),
    "晚上路灯不亮，看不见路": ("component", "0111"),
    "垃圾桶坏了，盖子掉了": ("component", "0305"),
    "下大雨路口全是积水": ("event", "0406"),
}


@pytest.fixture
def model_dir(settings, tmp_path):
    """Models of this test only, in a directory of its own."""
    settings.CASES_RECOMMEND_DIR = tmp_path / "recommend"
    settings.CASES_RECOMMEND_CORPUS = 2500
    return settings.CASES_RECOMMEND_DIR


def history(as_user, street: AdminArea, rows: dict) -> int:
    """Writes registered cases with the descriptions of `rows` ((kind, code) → texts): one
    reported through the API, and its copies with their class and text. Gives how many."""
    reported = report(as_user(f"inspector-{street.code}"), *inside(street))
    assert reported.status_code == 201, reported.content
    template = Case.objects.get(pk=reported.json()["id"])
    copies = []
    for (kind, code), texts in rows.items():
        category = Category.objects.get(kind=kind, code=code)
        for text in texts:
            case = Case.objects.get(pk=template.pk)
            case.pk, case.number = None, f"H{len(copies):010d}"
            case.category, case.description, case.state = category, text, "to_dispatch"
            copies.append(case)
    Case.objects.bulk_create(copies)
    return len(copies)  # the reported one is not registered: no history


def ask(client, text: str, **query):
    return client.get(URL, {"text": text, **query})


# --- the API -----------------------------------------------------------------------------------


def test_refusals_are_json_errors(client, as_user, model_dir):
    assert client.get(URL, {"text": "路灯不亮"}).status_code == 401
    refused = as_user("dept-huanwei").get(URL, {"text": "路灯不亮"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"

    acceptor = as_user("acceptor")
    cases = [
        ({}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "路" * 4001}, "text"),
        ({"text": "路灯不亮", "kind": "tree"}, "kind"),
        ({"text": "路灯不亮", "limit": "0"}, "limit"),
        ({"text": "路灯不亮", "lon": "116.3"}, "lat"),
    ]
    for query, field in cases:
        answer = acceptor.get(URL, query)
        assert answer.status_code == 400, (query, answer.content)
        assert answer.json()["error"]["field"] == field, query

    missing = acceptor.get(URL, {"text": "路灯不亮"})  # no model trained in this directory
    assert missing.status_code == 503 and missing.json()["error"]["code"] == "unavailable"


def test_top_three_with_probabilities_and_the_manuals_departments(as_user, two_streets, model_dir):
    call_command("train_recommend", corpus_only=True, verbosity=0)
    inspector = as_user(f"inspector-{two_streets[0].code}")
    answer = ask(inspector, "人民路公交站旁边的电线杆上贴满了办证小广告")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["model_version"] == 1
    top = body["recommendations"]
    assert len(top) == 3
    probabilities = [r["probability"] for r in top]
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0 < sum(probabilities) <= 1.0001
    assert (top[0]["kind"], top[0]["code"], top[0]["name"]) == ("event", "0201", "非法小广告")
    for row in top:
        entry = ManualEntry.objects.get(
            category__kind=row["kind"], category__code=row["code"], area=None
        )
        assert row["department"] == {"code": entry.department.code, "name": entry.department.name}

    # The manual can differ by area: the street's own entry wins at a point inside it.
    street = two_streets[0]
    ads = Category.objects.get(kind="event", code="0201")
    local = Department.objects.get(code="H-huanwei")
    ManualEntry.objects.create(category=ads, area=street, department=local)
    lon, lat = inside(street)
    here = ask(inspector, "电线杆上贴满了办证小广告", lon=lon, lat=lat).json()["recommendations"]
    assert here[0]["code"] == "0201" and here[0]["department"]["code"] == "H-huanwei"
    elsewhere = ask(inspector, "电线杆上贴满了办证小广告").json()["recommendations"]
    assert elsewhere[0]["department"]["code"] == "H-chengguan"

    components = ask(as_user("acceptor"), "路灯不亮", kind="component", limit=5).json()
    assert len(components["recommendations"]) == 5
    assert {r["kind"] for r in components["recommendations"]} == {"component"}
    assert components["recommendations"][0]["code"] == "0111"


def test_a_model_from_the_case_history_knows_sentences_it_never_saw(
    as_user, two_streets, model_dir, settings
):
    settings.CASES_RECOMMEND_MIN_HISTORY = 50  # the fixture history alone
    assert history(as_user, two_streets[0], HISTORY) == 60
    assert recommend.history()[:1] and len(recommend.history()) == 60
    call_command("train_recommend", verbosity=0)
    assert recommend.model().meta["source"] == "history"
    acceptor = as_user("acceptor")
    wrong = {}
    for text, (kind, code) in HELD_OUT.items():
        top = ask(acceptor, text).json()["recommendations"]
        assert len(top) == 3  # six classes known
        if (top[0]["kind"], top[0]["code"]) != (kind, code):
            wrong[text] = top
    assert wrong == {}


def test_the_fast_probabilities_are_scikit_learns(model_dir):
    rows = recommend.corpus(1500, seed=3)
    pipeline = recommend.fit(rows)
    fast = recommend.fast_predict_proba(pipeline)
    assert fast != pipeline.predict_proba  # the calibrated SVM takes the fast path
    texts = [text for text, _ in recommend.corpus(200, seed=4)] + ["", "呱呱鸭", "路灯" * 500]
    expected = pipeline.predict_proba(texts)
    assert expected.shape == (len(texts), 83)
    got = fast(texts)
    assert abs(got - expected).max() < 1e-12
    assert abs(got.sum(axis=1) - 1).max() < 1e-9


# --- retraining and automatic dispatch ---------------------------------------------------------


def test_retraining_by_the_celery_job_is_picked_up(
    celery_worker, city, org, as_user, two_streets, model_dir, settings
):
    from cases.tasks import train_recommend_model

    call_command("train_recommend", corpus_only=True, verbosity=0)
    acceptor = as_user("acceptor")
    phrase = "呱呱鸭冒紫烟"  # nothing any class speaks of
    before = ask(acceptor, phrase).json()
    assert before["model_version"] == 1

    # The city's own history teaches a new phrase for 露天烧烤.
    settings.CASES_RECOMMEND_MIN_HISTORY = 50
    taught = {**HISTORY, ("event", "0506"): [f"{phrase}{i}号" for i in range(10)]}
    assert history(as_user, two_streets[0], taught) == 60
    assert before["recommendations"][0]["code"] != "0506" or (
        before["recommendations"][0]["probability"] < 0.5
    )
    result = train_recommend_model.delay().get(timeout=180)
    assert result["version"] == 2 and result["source"] == "history"

    after = ask(acceptor, phrase).json()
    assert after["model_version"] == 2
    assert (after["recommendations"][0]["kind"], after["recommendations"][0]["code"]) == (
        "event",
        "0506",
    )


def test_registration_dispatches_a_confident_class_at_once(
    as_user, two_streets, model_dir, settings
):
    call_command("train_recommend", corpus_only=True, verbosity=0)
    assert not ManualEntry.objects.filter(auto_dispatch=True).exists()
    street = two_streets[0]
    inspector = as_user(f"inspector-{street.code}")

    def registered(description: str) -> dict:
        cid = report(inspector, *inside(street), description=description).json()["id"]
        assert act(as_user("acceptor"), cid, "accept", 1).status_code == 200
        done = act(
            as_user("shiftleader"),
            cid,
            "register",
            2,
            condition=condition_id("event", "0102", "register"),
        )
        assert done.status_code == 200, done.content
        return done.json()

    clear = "人行道上扔了一堆垃圾袋，垃圾满地没人收"
    own = dict(recommend.probabilities(clear, "event"))["event:0102"]
    assert own >= 0.6, own

    settings.CASES_RECOMMEND_AUTO_DISPATCH = 0  # off: the dispatcher decides
    assert registered(clear)["state"] == "to_dispatch"

    settings.CASES_RECOMMEND_AUTO_DISPATCH = 0.6
    sent = registered(clear)
    assert sent["state"] == "handling" and sent["department"]["code"] == "H-huanwei"
    event = CaseEvent.objects.get(case_id=sent["id"], action="dispatch")
    assert event.details["automatic"] is True
    assert event.details["confidence"] == pytest.approx(own, abs=1e-3)
    assert event.actor.get_username() == "shiftleader"

    # A description the model does not read as the case's class stays with the dispatcher.
    vague = registered("路灯杆被车撞歪了")
    assert vague["state"] == "to_dispatch"
