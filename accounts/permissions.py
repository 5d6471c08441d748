"""Permission names (权限) a position can carry, with their Chinese labels.

Views call ``scope_for(request).require(LAYERS_IMPORT)``; positions store these names as data.
"""

LAYERS_IMPORT = "layers.import"
LAYERS_EDIT = "layers.edit"
LAYERS_DELETE = "layers.delete"
MAPCONFIG_EDIT = "mapconfig.edit"
STYLES_EDIT = "styles.edit"
LOGS_READ = "logs.read"
PEOPLE_MANAGE = "people.manage"
GEOCODE_BATCH = "geocode.batch"
CASES_READ = "cases.read"
CASES_REPORT = "cases.report"
CASES_ACCEPT = "cases.accept"
CASES_REGISTER = "cases.register"
CASES_DISPATCH = "cases.dispatch"
CASES_HANDLE = "cases.handle"
CASES_SUPERVISE = "cases.supervise"
EVALUATION_MANAGE = "evaluation.manage"
EVALUATION_SCORE = "evaluation.score"
TRACKING_MONITOR = "tracking.monitor"
TRACKING_ACKNOWLEDGE = "tracking.acknowledge"
CONFIG_EDIT = "config.edit"
SYSTEM_ADMIN = "system.admin"

ALL_PERMISSIONS: dict[str, str] = {
    LAYERS_IMPORT: "导入图层",
    LAYERS_EDIT: "编辑图层",
    LAYERS_DELETE: "删除图层",
    MAPCONFIG_EDIT: "地图配置",
    STYLES_EDIT: "样式配置",
    LOGS_READ: "查看日志",
    PEOPLE_MANAGE: "机构设置",
    GEOCODE_BATCH: "批量地理编码",
    CASES_READ: "查看案件",
    CASES_REPORT: "上报案件",
    CASES_ACCEPT: "受理案件",
    CASES_REGISTER: "立案结案",
    CASES_DISPATCH: "派遣案件",
    CASES_HANDLE: "处置案件",
    CASES_SUPERVISE: "监督指挥",
    EVALUATION_MANAGE: "绩效评价配置",
    EVALUATION_SCORE: "评价打分",
    TRACKING_MONITOR: "监督员监控（实时位置、报警、轨迹）",
    TRACKING_ACKNOWLEDGE: "处理报警",
    CONFIG_EDIT: "业务配置（工作日历等）",
    SYSTEM_ADMIN: "系统管理员（全部权限、全部区域）",
}

GIS_ADMIN_PERMISSIONS = [
    LAYERS_IMPORT,
    LAYERS_EDIT,
    LAYERS_DELETE,
    MAPCONFIG_EDIT,
    STYLES_EDIT,
    GEOCODE_BATCH,
]


def unknown_permissions(names: list[str]) -> list[str]:
    """Gives the names in `names` that are not permissions."""
    return [n for n in names if n not in ALL_PERMISSIONS]
