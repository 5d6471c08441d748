"""A generated corpus of problem descriptions (问题描述) as citizens, hotline operators and
inspectors write them, labelled with the CJ/T 214 minor class, for training and measuring the
category recommendation (`cases.recommend`) before a city has a case history of its own.

Each class has words for what is wrong (`ClassWords`: the things named, as people name them,
and what happened to them, or whole phrases for events); `Corpus.text` puts one class's words
in a sentence of a register (an inspector's terse note, a citizen's message, a hotline
operator's summary), with a place (roads, crossings, shops, "我家楼下"), sometimes the time it
has lasted, its effect and a plea, sometimes a second, smaller complaint before or after (the
label stays the main one), and typing slips: homophones an input method picks (同音错别字, by
`pypinyin`), dropped or doubled punctuation. Same seed, same corpus. No database: the bench
and the tests use it as it is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache

# --- what each class is about ----------------------------------------------------------------


@dataclass(frozen=True)
class ClassWords:
    """The words of one minor class: `things` people name, `faults` that happen to them, and
    `phrases` that say the whole problem (events mostly)."""

    things: tuple[str, ...] = ()
    faults: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()


# Faults of most street furniture (部件), mixed into each component class's own.
BROKEN = ("破损", "坏了", "损坏严重", "破了", "烂了", "被撞坏了", "有裂缝", "掉漆生锈")
LID = (
    "丢了",
    "不见了",
    "被偷了",
    "缺失",
    "碎了",
    "裂开了",
    "松动，车一压就响",
    "踩上去晃",
    "下沉了",
    "高出路面一截",
    "翘起来了",
    "移位了，露出一个洞",
    "塌陷",
    "盖不严",
)
MANHOLE = ("井盖", "窨井盖", "马路上的井盖", "圆井盖", "铁井盖")


def _lid(*own: str) -> ClassWords:
    return ClassWords(things=own + MANHOLE[:2], faults=LID)


COMPONENTS: dict[str, ClassWords] = {
    "0101": _lid("自来水井盖", "上水井盖", "给水井盖", "水表井盖", "写着给水的井盖", "阀门井盖"),
    "0102": _lid("污水井盖", "下水井盖", "化粪池井盖", "写着污水的井盖", "排污井盖"),
    "0103": _lid("雨水井盖", "写着雨水的井盖", "排水井盖", "雨水检查井盖"),
    "0104": ClassWords(
        things=("雨水箅子", "雨水篦子", "雨篦子", "路边收水口的铁篦子", "排水口格栅", "下水口铁网"),
        faults=LID + ("被垃圾堵死了", "断了几根"),
    ),
    "0105": _lid("电力井盖", "印着电力的井盖", "供电井盖", "电缆井盖"),
    "0106": _lid("路灯井盖", "路灯检修井盖", "路灯电缆井的盖子"),
    "0107": _lid("通讯井盖", "通信井盖", "电信井盖", "联通的井盖", "移动光缆井盖"),
    "0108": ClassWords(
        things=("热力井盖", "暖气井盖", "供热井盖", "热力检查井盖"),
        faults=LID + ("往外冒白气",),
    ),
    "0109": _lid("燃气井盖", "煤气井盖", "天然气井盖", "燃气阀门井盖"),
    "0110": ClassWords(
        things=("消防栓", "消火栓", "消防龙头", "路边红色的消防栓", "地上消火栓"),
        faults=("漏水", "一直在滴水", "被车撞歪了", "被撞倒了", "盖子丢了", "被杂物挡住")
        + ("被圈进店里了", "出水口帽子没了"),
    ),
    "0111": ClassWords(
        things=("路灯", "路灯杆", "街灯", "马路边的灯", "灯杆", "小区外面的路灯"),
        faults=("不亮", "坏了", "一闪一闪的", "白天还亮着", "晚上黑漆漆的一片", "灯罩掉了")
        + ("灯杆歪了", "电线露在外面", "好几盏都不亮"),
    ),
    "0112": ClassWords(
        things=("地灯", "埋地灯", "广场上的地灯", "草坪灯", "地埋灯"),
        faults=("不亮", "玻璃罩碎了", "灯罩破了", "好像漏电", "凸起来绊脚", "被踩坏了"),
    ),
    "0113": ClassWords(
        things=("景观灯", "亮化灯", "装饰灯", "楼体亮化灯带", "树上挂的彩灯", "河边的灯带"),
        faults=("不亮", "一半不亮", "灯串掉下来了", "电线垂下来", "坏了好几段", "灯罩脱落"),
    ),
    "0114": ClassWords(
        things=("电线杆", "电杆", "水泥电线杆", "电力杆", "线杆"),
        faults=("倾斜", "歪了快倒了", "被车撞断了", "电线垂得很低", "拉线松了", "底座裂了"),
    ),
    "0115": ClassWords(
        things=("变压器", "配电箱", "变电箱", "箱式变电站", "路边的电箱", "电力箱"),
        faults=("嗡嗡响", "冒烟了", "柜门开着没锁", "柜门被撬", "漏油", "有焦糊味"),
    ),
    "0116": ClassWords(
        things=("电话亭", "公用电话亭", "IC卡电话", "公用电话"),
        faults=("坏了", "玻璃碎了", "话筒没了", "早就废弃了", "歪倒"),
    ),
    "0117": ClassWords(
        things=("邮筒", "绿色邮筒", "路边邮箱", "信筒"),
        faults=("锈穿了", "投信口堵了", "歪倒了", "被撞倒", "门锁坏了"),
    ),
    "0201": ClassWords(
        things=("停车场", "公共停车场", "停车场道闸", "停车场收费亭", "停车场地面标线"),
        faults=("道闸坏了抬不起来", "标线磨没了", "地面坑坑洼洼", "出入口栏杆断了")
        + ("收费设备坏了", "照明不亮"),
    ),
    "0202": ClassWords(
        things=("公交站亭", "公交车站", "候车亭", "公交站台", "公交站牌", "站台顶棚"),
        faults=("玻璃碎了", "顶棚漏雨", "座椅坏了", "站牌被撞歪了", "站牌上的字看不清")
        + BROKEN[:3],
    ),
    "0203": ClassWords(
        things=("自行车停放架", "存车架", "单车停车架", "自行车架子", "存车支架"),
        faults=("变形了", "锈断了", "缺了好几根", "歪倒", "被拆了一半"),
    ),
    "0204": ClassWords(
        things=("过街天桥", "人行天桥", "天桥", "天桥台阶", "天桥扶手"),
        faults=("台阶破损", "扶手松了", "桥面瓷砖掉了", "护栏断了", "电梯停用好久", "灯不亮"),
    ),
    "0205": ClassWords(
        things=("地下通道", "人行地下通道", "过街通道", "地道"),
        faults=("灯全不亮", "墙砖脱落", "漏水积水", "台阶破损", "黑乎乎的很吓人"),
    ),
    "0206": ClassWords(
        things=("交通标志牌", "指示牌", "限速牌", "禁停标志", "交通标牌", "导向牌"),
        faults=("被撞歪了", "倒了", "被树挡住看不见", "褪色看不清", "指向错误", "松动快掉了"),
    ),
    "0207": ClassWords(
        things=("红绿灯", "信号灯", "交通信号灯", "人行横道灯", "路口的灯"),
        faults=("不亮", "坏了", "一直闪黄灯", "一直是红灯", "绿灯时间太短", "倒计时不显示")
        + ("几个方向同时绿灯",),
    ),
    "0208": ClassWords(
        things=("护栏", "道路护栏", "隔离栏", "马路中间的铁栏杆", "人行道护栏", "防撞栏"),
        faults=("被撞倒了", "断了", "缺了一截", "歪倒在路上", "锈蚀严重", "被人拆开一个口子"),
    ),
    "0209": ClassWords(
        things=("隔音屏", "隔音墙", "声屏障", "高架上的隔音板"),
        faults=("板子掉下来了", "松动", "破损", "被风吹得晃", "缺了几块"),
    ),
    "0210": ClassWords(
        things=("交通岗亭", "交警岗亭", "岗亭", "指挥亭"),
        faults=("玻璃碎了", "早就废弃了", "门锁坏了", "锈迹斑斑", "被人占用堆东西"),
    ),
    "0211": ClassWords(
        things=("电子警察", "违章摄像头", "抓拍探头", "测速摄像头", "闯红灯拍照的摄像头"),
        faults=("歪了", "被树挡住", "杆子倾斜", "掉下来了", "补光灯晃眼"),
    ),
    "0212": ClassWords(
        things=("路名牌", "路牌", "街道名牌", "路名指示牌"),
        faults=("字掉了", "看不清", "歪了", "倒了", "写错字了", "方向标反了"),
    ),
    "0213": ClassWords(
        things=("隔离墩", "水马", "石墩", "挡车石墩", "隔离桩", "防撞桶", "反光锥"),
        faults=("被撞碎了", "移位了", "倒在路中间", "缺了几个", "挡住了盲道"),
    ),
    "0301": ClassWords(
        things=("公厕", "公共厕所", "厕所", "公共卫生间", "旱厕"),
        faults=("太臭了", "堵了", "没水冲不了", "门坏了", "白天不开门", "灯不亮", "洗手池漏水")
        + ("粪便外溢", "没有纸也没人打扫"),
    ),
    "0302": ClassWords(
        things=("垃圾房", "垃圾间", "垃圾收集站", "垃圾屋", "小区垃圾站"),
        faults=("门坏了关不上", "臭气熏天", "屋顶漏水", "墙体破损", "污水流出来"),
    ),
    "0303": ClassWords(
        things=("灯箱", "霓虹灯", "广告灯箱", "发光字", "楼顶的霓虹灯"),
        faults=("不亮", "缺笔画", "灯管掉了", "外壳破了", "一闪一闪", "电线裸露"),
    ),
    "0304": ClassWords(
        things=("广告牌", "招牌", "牌匾", "门头招牌", "店招", "楼顶广告牌"),
        faults=("松动快掉了", "被风吹歪了", "破损", "字掉了", "摇摇欲坠", "铁架锈断"),
    ),
    "0305": ClassWords(
        things=("垃圾桶", "果皮箱", "垃圾箱", "分类垃圾桶", "路边的垃圾桶"),
        faults=("坏了", "盖子没了", "整个桶被偷了", "倒了", "被烧坏了", "底部烂了", "缺失"),
    ),
    "0306": ClassWords(
        things=("报刊亭", "报亭", "书报亭"),
        faults=("废弃了", "破损", "锈迹斑斑", "无人经营很久了", "门窗破了"),
    ),
    "0307": ClassWords(
        things=("信息亭", "便民服务亭", "查询机", "电子屏亭"),
        faults=("屏幕碎了", "不能用", "废弃了", "外壳破了", "黑屏"),
    ),
    "0308": ClassWords(
        things=("座椅", "长椅", "休闲椅", "公园长凳", "石凳", "路边的椅子"),
        faults=("断了", "木条掉了", "螺丝松了", "晃得厉害", "烂了", "缺了一块"),
    ),
    "0401": ClassWords(
        things=("古树", "老树", "挂牌保护的古树", "几百年的老槐树", "古银杏"),
        faults=("有枯枝", "树干开裂", "被钉了钉子挂东西", "树根被水泥封死", "生虫了", "倾斜"),
    ),
    "0402": ClassWords(
        things=("行道树", "路边的树", "梧桐树", "香樟树", "大树", "树"),
        faults=("倒了", "断枝掉下来", "树枝挡住了红绿灯", "枯死了", "树枝刮车", "歪倒压着电线")
        + ("被风刮断了",),
    ),
    "0403": ClassWords(
        things=("树池", "树池盖板", "护树板", "树围栏", "树池篦子", "护树架"),
        faults=("破损", "缺失", "翘起来了", "成了一个坑", "碎了绊人"),
    ),
    "0404": ClassWords(
        things=("花箱", "花钵", "花架", "花坛花盆", "路边的花箱"),
        faults=("碎了", "倒了", "花都死了", "被人挪走了", "破损"),
    ),
    "0405": ClassWords(
        things=("绿地", "草坪", "绿化带", "草地", "公共绿地"),
        faults=("被踩秃了", "被占用种菜", "黄土裸露", "被车碾压", "杂草丛生", "被水泥硬化了"),
    ),
    "0406": ClassWords(
        things=("雕塑", "雕像", "城市雕塑", "景观小品", "广场上的雕塑"),
        faults=("破损", "被涂鸦", "掉色", "部件缺失", "底座裂开"),
    ),
    "0501": ClassWords(
        things=("宣传栏", "公示栏", "宣传橱窗", "社区公告栏", "宣传牌"),
        faults=("玻璃碎了", "内容早过期了", "倒了", "锈迹斑斑", "破损"),
    ),
    "0502": ClassWords(
        things=("人防工事", "防空洞", "人防门", "人防出口"),
        faults=("门一直开着", "积水", "有人住进去了", "堆放杂物", "口子没封"),
    ),
    "0503": ClassWords(
        things=("地下室出入口", "地下室入口", "地库入口", "地下室的门"),
        faults=("门坏了", "积水倒灌", "盖板破损", "敞开着没人管"),
    ),
    "0601": ClassWords(
        things=("液化气站", "加油站", "危化品仓库", "液化气罐", "油罐"),
        faults=("有泄漏", "存放不规范", "旁边有人抽烟", "门口堆满易燃物", "有刺鼻气味"),
    ),
    "0602": ClassWords(
        things=("工地", "工地围挡", "施工围挡", "工地大门", "工地围墙"),
        faults=("围挡倒了", "围挡破了个洞", "大门敞开没人看", "围挡歪了要倒", "围挡缺了一段"),
    ),
    "0603": ClassWords(
        things=("河道护栏", "河边栏杆", "码头", "亲水平台", "河边救生圈", "河堤"),
        faults=("护栏断了", "救生圈没了", "台阶破损", "栏杆松动", "塌了一块"),
    ),
    "0604": ClassWords(
        things=("监控", "摄像头", "监控探头", "治安监控", "路口监控"),
        faults=("坏了", "歪了", "线垂下来", "杆子倒了", "被树挡住"),
    ),
}

EVENTS: dict[str, ClassWords] = {
    "0101": ClassWords(
        phrases=(
            "私自搭建彩钢棚",
            "有人违章搭建",
            "楼顶加盖了一层",
            "在院子里搭了个棚子",
            "搭了一个铁皮房",
            "占用绿地盖房子",
            "阳台往外扩建",
            "一楼住户私自圈地建房",
            "违建还在继续施工",
            "乱搭乱建",
        )
    ),
    "0102": ClassWords(
        phrases=(
            "垃圾没人收",
            "垃圾扔得满地都是",
            "到处是垃圾袋",
            "垃圾桶外面堆满了垃圾",
            "有人乱扔垃圾",
            "生活垃圾暴露",
            "垃圾袋被狗扒开了散了一地",
            "垃圾满出来了",
            "一堆垃圾臭死了",
            "有暴露垃圾",
        )
    ),
    "0103": ClassWords(
        phrases=(
            "渣土堆了好久",
            "堆着建筑垃圾",
            "装修垃圾堆了一个多月",
            "有一大堆碎砖头",
            "渣土堆积没人清运",
            "堆了很多沙土",
            "垃圾堆成了小山",
            "积存垃圾没清理",
        )
    ),
    "0104": ClassWords(
        phrases=(
            "路面很脏",
            "马路上全是泥",
            "人行道上一大片油污",
            "路面上有狗屎",
            "落叶没人扫",
            "路上很多烟头纸屑",
            "路面脏得不行",
            "道路保洁不到位",
            "地上黏糊糊的",
        )
    ),
    "0105": ClassWords(
        phrases=(
            "河里漂着很多垃圾",
            "河面上都是白色垃圾",
            "水面有一层油污",
            "河水发黑发臭",
            "湖里有死鱼",
            "水面上漂着塑料瓶",
            "河道里水葫芦疯长",
            "池塘水面很脏",
        )
    ),
    "0106": ClassWords(
        phrases=(
            "绿化带里全是垃圾",
            "草坪里扔了很多垃圾",
            "花坛里有垃圾",
            "绿地里堆着杂物",
            "绿化带里塞满了塑料袋",
            "树坑里全是烟头垃圾",
        )
    ),
    "0107": ClassWords(
        phrases=(
            "有人扔了旧沙发",
            "破床垫扔在路边",
            "一堆旧家具没人管",
            "废弃冰箱放在路边",
            "旧衣柜扔在楼道口",
            "旧电视洗衣机堆在墙角",
            "废弃的桌椅",
        )
    ),
    "0108": ClassWords(
        phrases=(
            "渣土车撒了一路",
            "运输车遗撒",
            "路上撒了很多沙子",
            "泥浆车漏了一路泥浆",
            "货车掉了一路的东西",
            "水泥罐车洒了一地",
            "车轮带泥把路弄脏了",
        )
    ),
    "0109": ClassWords(
        phrases=(
            "有人烧垃圾",
            "在焚烧树叶",
            "有人烧秸秆",
            "空地上烧东西冒黑烟",
            "焚烧垃圾味道呛人",
            "有人烧电线",
            "垃圾桶着火了",
        )
    ),
    "0201": ClassWords(
        phrases=(
            "贴满了小广告",
            "牛皮癣小广告",
            "到处是办证的电话",
            "喷涂了电话号码",
            "贴了很多开锁小广告",
            "墙上被人喷了办证广告",
            "电线杆上贴满了广告",
            "有人贴小广告",
        )
    ),
    "0202": ClassWords(
        phrases=(
            "乱挂横幅",
            "悬挂大幅条幅",
            "未经审批挂广告",
            "乱拉横幅",
            "楼上挂了一大块广告布",
            "树上挂着广告",
            "商户违规悬挂招牌",
        )
    ),
    "0203": ClassWords(
        phrases=(
            "立式广告牌放在人行道上",
            "占道摆放广告牌",
            "门口放了好几个易拉宝",
            "在路上立了个拱门",
            "落地广告牌挡路",
            "店家把广告架摆到路边",
        )
    ),
    "0204": ClassWords(
        phrases=(
            "有人发传单",
            "街头发小卡片",
            "有人发广告单",
            "往车窗上塞小卡片",
            "拦着行人发传单",
            "满地都是发的广告单",
        )
    ),
    "0301": ClassWords(
        phrases=(
            "半夜还在施工",
            "施工噪音很大",
            "晚上十一点还在打桩",
            "电钻声吵得睡不着",
            "机器轰鸣扰民",
            "凌晨还在施工",
            "工地夜里灌混凝土太吵",
        )
    ),
    "0302": ClassWords(
        phrases=(
            "工地扬尘",
            "工地上尘土飞扬",
            "裸土没盖防尘网",
            "工地灰尘很大",
            "工地没有洒水降尘",
            "工地车辆进出尘土漫天",
        )
    ),
    "0303": ClassWords(
        phrases=(
            "占道施工",
            "挖了路也没有围挡",
            "施工占了半条马路",
            "施工材料堆在路上",
            "修路占道没有警示",
            "施工把人行道挖断了",
        )
    ),
    "0304": ClassWords(
        phrases=(
            "施工废料乱倒",
            "工地废料堆在路边",
            "废弃建材没清走",
            "水泥袋钢筋头扔了一地",
            "施工剩下的砖块废料",
        )
    ),
    "0401": ClassWords(
        phrases=(
            "路面塌陷",
            "地面塌了一个大坑",
            "路面下沉",
            "路面开裂往下陷",
            "马路突然塌了",
            "人行道塌了一个洞",
        )
    ),
    "0402": ClassWords(
        phrases=(
            "自来水管爆了",
            "水管破裂",
            "马路上往外冒水",
            "自来水管漏水",
            "地下水管喷水",
            "停水了好像是水管裂了",
        )
    ),
    "0403": ClassWords(
        phrases=(
            "煤气味很浓",
            "燃气泄漏",
            "天然气管道破了",
            "闻到很重的燃气味",
            "燃气管道被挖断了",
            "疑似煤气管漏气",
        )
    ),
    "0404": ClassWords(
        phrases=(
            "下水道堵了",
            "污水从地下冒出来",
            "下水道反臭味",
            "污水外溢",
            "排水管破了",
            "下水道堵塞污水横流",
            "化粪池满了往外冒",
        )
    ),
    "0405": ClassWords(
        phrases=(
            "暖气管道爆了",
            "地面冒热气",
            "热水管破裂",
            "热力管道漏水",
            "地上冒出滚烫的热水",
            "供热管道破了",
        )
    ),
    "0406": ClassWords(
        phrases=(
            "积水很深",
            "下雨后积水过膝",
            "路面被淹了",
            "水漫过脚踝",
            "一下雨就积水",
            "路口积水车都过不去",
        )
    ),
    "0407": ClassWords(
        phrases=(
            "路面结冰",
            "积雪没人清",
            "路太滑了",
            "冰面很滑摔倒好几个人",
            "台阶结冰",
            "雪化了又冻上",
        )
    ),
    "0501": ClassWords(
        phrases=(
            "流动摊贩",
            "有小贩占道卖东西",
            "有人摆地摊",
            "游商聚集",
            "卖水果的三轮车",
            "推车卖烤红薯的",
            "早上一堆小商贩卖菜",
        )
    ),
    "0502": ClassWords(
        phrases=(
            "收废品的占道",
            "废品收购站东西堆到路上",
            "收破烂的堆在路边",
            "废品回收点占用人行道",
            "收旧货的把纸壳堆在路上",
        )
    ),
    "0503": ClassWords(
        phrases=(
            "商户出店经营",
            "店门口摆摊",
            "商品摆到人行道上",
            "超门窗经营",
            "餐馆把桌子摆到外面",
            "水果店占道摆放",
            "饭店在门口洗菜切菜",
        )
    ),
    "0504": ClassWords(
        phrases=(
            "汽车乱停",
            "车辆违停",
            "车停在人行道上",
            "有车占用消防通道",
            "私家车堵了小区门口",
            "机动车乱停放",
            "好几辆车停在盲道上",
            "车把路堵死了",
        )
    ),
    "0505": ClassWords(
        phrases=(
            "共享单车乱停",
            "电动车乱放",
            "自行车堆成一堆",
            "单车堵住了盲道",
            "电瓶车停满了人行道",
            "共享单车倒了一片",
        )
    ),
    "0506": ClassWords(
        phrases=(
            "露天烧烤",
            "烧烤摊油烟很大",
            "烤串的油烟熏人",
            "夜宵摊在外面烧烤",
            "在路边支炉子烤肉",
        )
    ),
    "0507": ClassWords(
        phrases=(
            "占道洗车",
            "在路边洗车",
            "洗车店在人行道上洗车",
            "洗车的污水流到路上",
            "店门口洗车弄得满地是水",
        )
    ),
    "0601": ClassWords(
        phrases=(
            "广场舞音响太吵",
            "有流浪狗",
            "有人乞讨",
            "楼上高空抛物",
            "有人遛狗不拴绳",
            "有人在路边卖活禽",
        )
    ),
}

# The minor classes the corpus speaks of, as (kind, code).
CLASSES: list[tuple[str, str]] = [("component", c) for c in COMPONENTS] + [
    ("event", c) for c in EVENTS
]


def words(kind: str, code: str) -> ClassWords:
    """Gives the words of one minor class."""
    return (COMPONENTS if kind == "component" else EVENTS)[code]


# --- places, registers and the rest of a message ---------------------------------------------

ROADS = (
    "人民路 中山路 解放大道 建设路 和平街 新华路 胜利路 长江路 黄河路 朝阳路 文化路 学府路 "
    "幸福街 光明路 东风路 青年路 滨江大道 北京路 工农路 育才路"
).split()
PLACES = (
    "万达广场 第一人民医院 实验小学 菜市场 农贸市场 地铁站B口 地铁2号口 火车站 体育馆 "
    "图书馆 中心公园 汽车站 工商银行 华联超市 新华书店 肯德基 加油站 步行街 "
    "幸福里小区 阳光花园 锦绣家园 翠湖小区 老干部活动中心 社区服务中心"
).split()
SIDES = ("东侧", "西侧", "南侧", "北侧", "对面", "旁边", "门口", "附近", "往东50米", "往北一百米")
NEAR_HOME = ("我家楼下", "我们小区门口", "小区里面", "单位门口", "楼道口", "这边", "路边")


@dataclass
class Register:
    """How one kind of writer puts a problem: openings, endings and how much they add."""

    openings: tuple[str, ...]
    endings: tuple[str, ...]
    chatty: float  # the chance of each extra sentence (time, effect, plea)


INSPECTOR = Register(
    openings=("", "", "巡查发现", "经巡查，", "巡查中发现", "现场发现"),
    endings=("", "", "，已拍照", "，需派遣处理", "，请处置", "。"),
    chatty=0.1,
)
CITIZEN = Register(
    openings=("", "你好，", "您好，我要反映个问题，", "喂，", "投诉：", "我要投诉，", "反映一下，"),
    endings=("", "！", "！！！", "，谢谢", "，谢谢！", "。麻烦了", "?", "。"),
    chatty=0.55,
)
HOTLINE = Register(
    openings=("市民来电反映：", "来电人反映", "12345转办：", "市民反映，", "群众来电称"),
    endings=("，请相关部门核实处理。", "，要求尽快处理。", "，请处理。", "。"),
    chatty=0.35,
)
REGISTERS = ((INSPECTOR, 0.45), (CITIZEN, 0.4), (HOTLINE, 0.15))

DURATIONS = ("好几天了", "已经一个星期了", "一直没人管", "半个月了", "从上周开始就这样", "天天这样")
EFFECTS = (
    "影响出行",
    "晚上看不清很危险",
    "小孩上学要路过",
    "老人差点摔倒",
    "太影响市容了",
    "大家意见很大",
    "车都过不去",
    "很不安全",
)
PLEAS = (
    "麻烦尽快处理",
    "希望有关部门管一管",
    "请尽快派人来看看",
    "打了几次电话都没人管",
    "赶紧处理一下吧",
)
BEFORE = ("{other}也就算了，关键是", "除了{other}，", "{other}，而且")
AFTER = ("另外{other}", "还有{other}", "顺便说一下{other}", "旁边{other}")
PUNCTUATION = "，。！？、"

# Common characters an input method may pick instead of the one meant (同音字): every
# character of the corpus words is a candidate, plus these.
COMMON = (
    "的地得在再做作已以经径井景警盖概该改圾级及极机鸡记乱栏拦烂蓝篮路鹿露陆灯登等停亭庭"
    "挺占站战摊滩贩饭泛违围为位堆对队积击几挤坏怀破婆损笋告造倒到道刀车扯水谁税树数"
    "处出除管馆关理里力厉施师时事扬羊洋尘沉陈污屋无物摆百拜放方房防垃拉喇"
)


@lru_cache(maxsize=1)
def _homophones() -> dict[str, list[str]]:
    """Gives each character the other characters of the corpus spelt the same in pinyin
    (tones ignored), as an input method offers them."""
    from pypinyin import lazy_pinyin

    chars: set[str] = set(COMMON)
    for table in (COMPONENTS, EVENTS):
        for entry in table.values():
            for text in entry.things + entry.faults + entry.phrases:
                chars.update(text)
    by_sound: dict[str, list[str]] = {}
    for char in sorted(chars):
        if "\u4e00" <= char <= "\u9fff":
            by_sound.setdefault(lazy_pinyin(char)[0], []).append(char)
    return {
        char: [c for c in group if c != char]
        for group in by_sound.values()
        for char in group
        if len(group) > 1
    }


@dataclass
class Corpus:
    """Draws labelled descriptions from a seeded generator; `weights` ((kind, code) → relative
    frequency, default 1) give how often each class is spoken of."""

    seed: int = 1
    weights: dict[tuple[str, str], float] = field(default_factory=dict)
    typo_rate: float = 0.02  # the chance per Chinese character of a homophone slip

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.classes = list(CLASSES)
        self.cumulative: list[float] = []
        total = 0.0
        for key in self.classes:
            total += self.weights.get(key, 1.0)
            self.cumulative.append(total)

    def sample(self, count: int, floor: int = 0) -> list[tuple[str, tuple[str, str]]]:
        """Gives `count` (text, (kind, code)) pairs drawn by the weights, plus enough of each
        class to have at least `floor` of it."""
        rows = [self.labelled() for _ in range(count)]
        have: dict[tuple[str, str], int] = {}
        for _, key in rows:
            have[key] = have.get(key, 0) + 1
        for key in self.classes:
            rows += [(self.text(key), key) for _ in range(floor - have.get(key, 0))]
        self.rng.shuffle(rows)
        return rows

    def labelled(self) -> tuple[str, tuple[str, str]]:
        """Gives one description and its class, drawn by the weights."""
        pick = self.rng.random() * self.cumulative[-1]
        index = next(i for i, total in enumerate(self.cumulative) if total >= pick)
        key = self.classes[index]
        return self.text(key), key

    # --- one message ---------------------------------------------------------------------

    def text(self, key: tuple[str, str]) -> str:
        """Gives one description of the class `key`."""
        rng = self.rng
        register = _pick(rng, REGISTERS)
        if rng.random() < 0.12:  # a bare note: "路灯不亮", "井盖丢了"
            return self.slips(self.core(key, short=True))
        parts = [rng.choice(register.openings) + self.place(register) + self.core(key)]
        for extras in (DURATIONS, EFFECTS, PLEAS):
            if rng.random() < register.chatty:
                parts.append(rng.choice(extras))
        if rng.random() < 0.18:
            other = self.core(self.other(key), short=True)
            if rng.random() < 0.35:
                parts[0] = rng.choice(BEFORE).format(other=other) + parts[0]
            else:
                parts.insert(rng.randint(1, len(parts)), rng.choice(AFTER).format(other=other))
        return self.slips("，".join(parts) + rng.choice(register.endings))

    def core(self, key: tuple[str, str], short: bool = False) -> str:
        """Gives what is wrong, in a few words (`short`) or with the words people add."""
        rng, entry = self.rng, words(*key)
        if entry.phrases and (not entry.things or rng.random() < 0.7):
            said = rng.choice(entry.phrases)
            if not short and rng.random() < 0.3:
                said = rng.choice(("又", "总是", "经常", "一大早就", "晚上")) + said
            return said
        thing = rng.choice(entry.things)
        if rng.random() < 0.15:  # people often name only the generic thing
            thing = rng.choice(MANHOLE) if "井盖" in thing else thing
        faults = entry.faults + (BROKEN if rng.random() < 0.25 else ())
        fault = rng.choice(faults)
        if short:
            return thing + fault
        link = rng.choice(("", "", "", "有个", "有一个", "那个", "的"))
        if link in ("有个", "有一个", "那个"):
            return f"{link}{thing}{fault}"
        return f"{link}{thing}{rng.choice(('', '', '都', '又', '已经'))}{fault}"

    def place(self, register: Register) -> str:
        """Gives a place phrase, or nothing."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.15:
            return ""
        if register is CITIZEN and roll < 0.45:
            return rng.choice(NEAR_HOME)
        road, other = rng.sample(ROADS, 2)
        form = rng.randrange(5)
        if form == 0:
            return f"{road}与{other}交叉口"
        if form == 1:
            return f"{road}{rng.randint(1, 399)}号{rng.choice(('', '门前', '旁边'))}"
        if form == 2:
            return f"{rng.choice(PLACES)}{rng.choice(SIDES)}"
        if form == 3:
            return f"{road}{rng.choice(PLACES)}{rng.choice(SIDES)}"
        return f"{road}{rng.choice(('东段', '西段', '南段', '北段', '中段', ''))}"

    def other(self, key: tuple[str, str]) -> tuple[str, str]:
        """Gives another class for a second, smaller complaint."""
        while True:
            other = self.rng.choice(self.classes)
            if other != key:
                return other

    def slips(self, text: str) -> str:
        """Gives `text` with typing slips: homophones, lost or doubled punctuation, a space."""
        rng, table = self.rng, _homophones()
        chars = list(text)
        for i, char in enumerate(chars):
            if char in table and rng.random() < self.typo_rate:
                chars[i] = rng.choice(table[char])
            elif char in PUNCTUATION and rng.random() < 0.15:
                chars[i] = rng.choice(("", " ", ",", char * 2))
        return "".join(chars)


def _pick(rng: random.Random, weighted):
    pick = rng.random() * sum(w for _, w in weighted)
    for item, weight in weighted:
        pick -= weight
        if pick <= 0:
            return item
    return weighted[-1][0]
