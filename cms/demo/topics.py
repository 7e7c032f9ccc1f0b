"""Which demo column a news item belongs in, by keywords: transparent, deterministic, no model.

``classify(title, body)`` returns a column slug (``news``, ``notices``, ``politics``, ``organisation``,
``members``) or ``None`` when the item fits none of them. The rule, in order:

1. an item whose title or opening mentions violence, war, disease figures, disasters, crime, deaths or
   foreign affairs (see ``EXCLUDE``) fits no column: an organisation's site does not carry it;
2. news round-ups (国内/国际联播快讯) fit no column either;
3. each column scores 3 per keyword found in the title and 1 per keyword found in the opening; the
   item goes to the best-scoring column, but only if one of that column's keywords is in the title
   (a body that merely mentions 党员 does not make an item about trade a story about members); ties go
   to the column listed first in ``KEYWORDS``; a title that ends in 通知 or 公告 is a notice whatever its
   subject, as an editor files it.
"""

from __future__ import annotations

OPENING = 400  # characters of the body that count: the lead paragraph, as an editor would skim it

KEYWORDS: dict[str, tuple[str, ...]] = {
    # 通知公告: notices, meetings to come, arrangements, documents issued (a notice is a notice first,
    # whatever it is about, so this column wins ties)
    "notices": (
        "通知", "公告", "印发", "部署", "安排", "启用", "将于", "将举行", "直播", "征集",
        "报名", "名单", "施行",
    ),
    # 组织建设: the organisation itself, its branches, members and cadres, training and discipline
    "organisation": (
        "组织建设", "党组织", "基层党", "支部建设", "支部书记", "党员大会", "发展党员", "党员教育",
        "干部", "培训", "研讨班", "组织部", "队伍建设",
        "作风建设", "纪律", "廉政", "廉洁", "换届", "党内", "党建工作", "组织生活", "委员会会议",
    ),
    # 参政议政: proposals, consultation, the CPPCC, deputies' suggestions, research and policy
    "politics": (
        "政协", "提案", "议政", "参政", "协商", "民主党派", "统一战线", "统战", "代表委员", "人大代表",
        "建议", "建言", "献策", "调研", "政策", "履职", "议国是", "立法", "征求意见",
    ),
    # 会员风采: people — models, heroes, volunteers, awards and their stories
    "members": (
        "先进事迹", "先进个人", "先进集体", "模范", "榜样", "楷模", "劳模", "劳动者", "英雄", "最美", "志愿者", "志愿服务", "表彰", "荣誉称号",
        "获奖", "颁奖", "点赞", "优秀教师", "优秀党员", "优秀会员", "优秀志愿者", "扎根", "奋斗者", "事迹", "追梦", "青春", "工匠", "时代楷模", "身边",
    ),
    # 新闻动态: the organisation's and the Party's work news — study, campaigns, events
    "news": (
        "党建", "党的建设", "主题教育", "学习贯彻", "宣讲", "党课", "党史", "学习教育", "理论学习",
        "主题党日", "精神", "红色", "纪念", "庆祝", "建党", "新时代", "文明实践", "走基层", "读书",
        "推进会", "现场教学",
    ),
}

EXCLUDE: tuple[str, ...] = (
    # violence and war
    "枪击", "枪支", "开枪", "袭击", "恐袭", "恐怖", "爆炸", "导弹", "空袭", "轰炸", "交火", "战斗", "战事",
    "战争", "战火", "冲突", "打击", "武装", "军事", "军队", "无人机", "核设施", "停火", "人质",
    # deaths and disasters
    "遇难", "死亡", "身亡", "伤亡", "丧生", "遇害", "地震", "强震", "洪水", "洪涝", "台风", "暴雨", "防汛",
    "山火", "火灾", "灾害", "救灾", "事故", "坍塌", "泥石流", "干旱", "寒潮",
    # disease and its figures
    "疫情", "新冠", "确诊", "病例", "感染", "病毒", "疫苗", "防疫", "医疗救治",
    # crime
    "犯罪", "嫌犯", "嫌疑人", "逮捕", "被捕", "判处", "谋杀", "凶杀", "毒品", "诈骗", "枪手", "绑架",
    # mourning and foreign affairs: not an organisation's columns
    "治丧", "逝世", "哀悼", "遗体", "总统", "总理", "首相", "国王", "外长", "访华", "访问", "会见", "会谈", "致电", "峰会", "二十国集团",
    "国际社会", "国际人士", "中外", "违纪违法", "涉嫌", "审查调查", "典型问题",
    "联合国", "安理会", "朝鲜", "参访", "志愿军", "遗骸", "发射", "制裁", "关税", "停摆", "美国", "俄罗斯", "乌克兰", "以色列", "加沙", "伊朗", "巴勒斯坦",
)
NOTICE_FORMS = ("通知", "公告")
ROUND_UPS = ("联播快讯", "快讯")


def excluded(title: str, body: str = "") -> str | None:
    """The first keyword that rules the item out, or None."""
    text = title + "\n" + body[:OPENING]
    for word in EXCLUDE:
        if word in text:
            return word
    for word in ROUND_UPS:
        if word in title:
            return word
    return None


def scores(title: str, body: str = "") -> dict[str, int]:
    opening = body[:OPENING]
    return {
        slug: sum(3 for w in words if w in title) + sum(1 for w in words if w in opening)
        for slug, words in KEYWORDS.items()
    }


def classify(title: str, body: str = "") -> str | None:
    """The column slug ``title``/``body`` belongs in, or None when it fits no column (see the module)."""
    title, body = title.strip(), body.strip()
    if not title or excluded(title, body):
        return None
    if title.endswith(NOTICE_FORMS):
        return "notices"
    by_column = scores(title, body)
    candidates = [slug for slug in KEYWORDS if any(w in title for w in KEYWORDS[slug])]
    if not candidates:
        return None
    return max(candidates, key=lambda slug: by_column[slug])  # max keeps the first of equals
