"""What the demo cases say: descriptions, callers and the opinions of each step."""

from __future__ import annotations

import random

from cases.actions import Reporter
from data.models import Category

# Descriptions by class name; ``{where}`` is the address. Others get GENERIC.
DESCRIPTIONS = {
    "暴露垃圾": [
        "{where}人行道上有暴露垃圾",
        "{where}垃圾桶外散落生活垃圾",
        "{where}绿化带内堆有垃圾袋",
    ],
    "非法小广告": [
        "{where}电线杆上贴满小广告",
        "{where}墙面喷涂办证小广告",
        "{where}公交站亭贴有小广告",
    ],
    "机动车乱停放": [
        "{where}机动车占用人行道停放",
        "{where}多辆机动车违停堵塞通道",
        "{where}路口机动车乱停",
    ],
    "店外经营": [
        "{where}商户出店经营占用人行道",
        "{where}餐馆在店外摆放桌椅",
        "{where}水果店占道摆摊",
    ],
    "非机动车乱停放": ["{where}共享单车堆放占用盲道", "{where}电动车乱停堵塞人行道"],
    "道路不洁": ["{where}路面油污未清理", "{where}人行道积存落叶泥沙"],
    "无照经营游商": ["{where}流动摊贩占道售卖", "{where}三轮车游商聚集"],
    "露天烧烤": ["{where}夜间露天烧烤，烟味扰民", "{where}商户在店外架设烤炉"],
    "积存垃圾渣土": ["{where}积存建筑渣土未清运", "{where}墙角堆积垃圾多日"],
    "私搭乱建": ["{where}商户私自搭建彩钢棚", "{where}违规搭建临时板房"],
    "施工扰民": ["{where}工地夜间施工噪音扰民"],
    "工地扬尘": ["{where}工地裸土未覆盖，扬尘严重"],
    "燃气管道破裂": ["{where}闻到明显燃气味，疑似管道破裂"],
    "自来水管破裂": ["{where}路面冒水，疑似自来水管破裂"],
    "路面塌陷": ["{where}路面出现塌陷坑"],
    "道路积水": ["{where}雨后路面大面积积水"],
}
GENERIC = [
    "{where}发现{name}问题，请处理",
    "{where}{name}，影响市容和通行",
    "{where}存在{name}情况",
]
COMPONENT = ["{where}{name}破损", "{where}{name}缺失", "{where}{name}松动移位", "{where}{name}损坏"]

OPINIONS = {
    "accept": ["属实，受理", "信息完整，予以受理", "受理", ""],
    "not_accept": ["重复上报", "不属于城市管理受理范围", "位置信息不清，无法定位"],
    "verify_yes": ["现场核实属实", "已到现场，问题存在", "情况属实"],
    "verify_no": ["现场未发现所报问题", "问题已自行消除", "与上报情况不符"],
    "phone_yes": ["电话回访来电人，情况属实"],
    "phone_no": ["电话回访来电人，问题已不存在"],
    "not_register": ["不符合立案条件", "属物业管理范围，不予立案"],
    "register": ["符合立案条件，予以立案", "立案", ""],
    "dispatch": ["请按时限处置", "派遣至责任单位", ""],
    "check_yes": ["现场已处置到位", "核查通过"],
    "check_no": ["问题仍然存在", "处置不彻底，仍有残留"],
    "rework": ["核查未通过，请重新处置", "处置不到位，返工"],
    "close": ["处置到位，予以结案", "结案"],
    "request_supplement": ["照片不清晰，请补拍近景", "请补充问题位置和周边情况", "请补拍全景照片"],
    "supplement": ["已补拍近景照片", "已补充现场情况", "已重新拍摄"],
    "archive": ["现场已处置，归档", "自行处置属实，归档", ""],
    "send_to_register": ["照片显示问题仍在，转立案", "处置不彻底，转立案处置"],
}
FEEDBACK = {
    Category.Kind.EVENT: ["已清理完毕", "已现场整改", "已劝离并清理现场", "已责令商户整改"],
    Category.Kind.COMPONENT: ["已修复", "已更换新件", "已加固复位", "已维修完毕"],
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"


class Texts:
    """Draws the texts from the planner's generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def description(self, category: Category, where: str) -> str:
        where = where or "辖区内"
        if category.name in DESCRIPTIONS:
            choices = DESCRIPTIONS[category.name]
        else:
            choices = COMPONENT if category.kind == Category.Kind.COMPONENT else GENERIC
        return self.rng.choice(choices).format(where=where, name=category.name)

    def reporter(self) -> Reporter:
        rng = self.rng
        name = rng.choice(SURNAMES) + rng.choice(["先生", "女士"])
        phone = "1" + rng.choice("3579") + "".join(str(rng.randint(0, 9)) for _ in range(9))
        return Reporter(
            name=name,
            phone=phone,
            private=rng.random() < 0.2,
            callback_wanted=rng.random() < 0.5,
        )

    def say(self, step: str, yes: bool | None = None, by_phone: bool = False) -> str:
        if yes is not None:
            step = f"{'phone' if by_phone else step}_{'yes' if yes else 'no'}"
        return self.rng.choice(OPINIONS[step])

    def feedback(self, category: Category) -> str:
        return self.rng.choice(FEEDBACK.get(category.kind, FEEDBACK[Category.Kind.EVENT]))
