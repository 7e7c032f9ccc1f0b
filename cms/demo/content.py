"""The demo's own bilingual news: what a small organisation's branches would publish, in Chinese and English.

Every column has a few article templates (title and three paragraphs in both languages) with slots for the
unit, a person and the date. ``own_articles(column, n)`` fills them in deterministically, so the demo has
column-appropriate pages with real English translations, and has the same kind of text when
``../shared`` (the news corpus) is missing. The texts were written for this project.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

# (Chinese, English) pairs for the slots
UNITS = [
    ("机关党支部", "the Secretariat Party Branch"),
    ("第一支部", "the First Branch"),
    ("第二支部", "the Second Branch"),
    ("青年工作委员会", "the Youth Committee"),
    ("理论学习中心组", "the Theory Study Group"),
]
PEOPLE = [("王红", "Wang Hong"), ("李明", "Li Ming"), ("张静", "Zhang Jing"), ("刘洋", "Liu Yang"), ("陈芳", "Chen Fang")]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


@dataclass(frozen=True)
class Template:
    zh_title: str
    en_title: str
    zh: tuple[str, ...]
    en: tuple[str, ...]


T = Template
TEMPLATES: dict[str, list[Template]] = {
    "news": [
        T("{unit}开展主题党日活动", "{Unit} holds a Party Day", (
            "{date}，{unit}组织全体党员开展主题党日活动，重温入党誓词，交流学习体会。",
            "活动中，支部书记结合本单位工作实际讲授专题党课，党员们围绕如何立足岗位作贡献展开讨论。",
            "大家表示，将把学习成果转化为做好本职工作的实际行动。",
        ), (
            "On {date}, {unit} held a Party Day: members renewed their oath and shared what they had learned.",
            "The branch secretary gave a Party lesson drawn from the branch's own work, and members discussed "
            "how each of them can contribute in their post.",
            "Members said they would turn what they had learned into better work in their own jobs.",
        )),
        T("{unit}赴红色场馆开展现场教学", "{Unit} holds a lesson at a red heritage site", (
            "{date}，{unit}组织党员赴本市革命纪念馆开展现场教学。",
            "在讲解员的带领下，党员们参观了馆内陈列，了解革命先辈的奋斗历程。",
            "参观结束后，大家在展厅前合影留念，并交流了参观感受。",
        ), (
            "On {date}, {unit} took its members to the city's revolutionary memorial hall for a lesson on site.",
            "Guided by the museum's staff, members toured the exhibition and learned about the struggles of "
            "earlier generations.",
            "Afterwards members took a group photo in front of the hall and shared their impressions.",
        )),
        T("{unit}举办读书分享会", "{Unit} hosts a book-sharing session", (
            "{date}，{unit}举办读书分享会，五名党员结合近期阅读的理论书籍分享心得。",
            "分享会采用线上线下相结合的方式，在外地工作的会员通过视频参加。",
            "{unit}将把读书分享会作为经常性学习的一项安排，每季度举办一次。",
        ), (
            "On {date}, {unit} held a book-sharing session at which five members talked about the theory books "
            "they had been reading.",
            "The session ran both in the room and online, so members working away could join by video.",
            "{Unit} will hold a session every quarter as part of its regular study.",
        )),
        T("{unit}召开季度工作推进会", "{Unit} reviews the quarter's work", (
            "{date}，{unit}召开季度工作推进会，总结上一阶段工作，部署下一阶段任务。",
            "会议听取了各小组的工作汇报，对宣传、学习和志愿服务等重点工作作出安排。",
            "会议要求，各项工作要明确责任人和时间表，确保按期完成。",
        ), (
            "On {date}, {unit} met to review the past quarter's work and plan the next.",
            "The meeting heard reports from each working group and set out the next steps for outreach, study "
            "and volunteer service.",
            "Every task was given an owner and a deadline.",
        )),
    ],
    "notices": [
        T("关于召开{unit}年度组织生活会的通知", "Notice: {unit}'s annual Party meeting", (
            "各位党员：经研究，{unit}定于{date}召开年度组织生活会，现将有关事项通知如下。",
            "会议内容为：通报年度工作情况，开展批评和自我批评，进行民主评议党员。",
            "请各位党员提前准备发言提纲，因故不能参加的请向支部书记请假。",
        ), (
            "To all members: {unit} will hold its annual Party meeting on {date}. The arrangements are as follows.",
            "The agenda: a report on the year's work, criticism and self-criticism, and the democratic "
            "appraisal of members.",
            "Please prepare your remarks in advance; members who cannot attend should tell the branch secretary.",
        )),
        T("{unit}关于开展党员集中学习培训的通知", "{Unit}: notice of a training course for members", (
            "为进一步提高党员理论素养，{unit}将于{date}起组织党员集中学习培训。",
            "培训采取专题讲座、分组研讨和线上自学相结合的方式，共安排三天。",
            "请各党小组于培训开始前三个工作日报送参训人员名单。",
        ), (
            "To deepen members' grasp of theory, {unit} will run a training course for members from {date}.",
            "The three-day course combines lectures, group discussion and online self-study.",
            "Party groups should send the names of participants three working days before the course starts.",
        )),
        T("{unit}关于征集年度调研课题的公告", "{Unit} invites proposals for this year's research topics", (
            "{unit}现面向全体会员征集年度调研课题，截止日期为{date}。",
            "课题应聚焦本领域的实际问题，具有较强的针对性和可操作性。",
            "来稿请注明课题名称、负责人和联系方式，通过电子邮件报送。",
        ), (
            "{Unit} invites all members to propose research topics for the year; the deadline is {date}.",
            "Topics should address practical problems in members' fields and lead to workable proposals.",
            "Please give the title, the lead person and contact details, and send proposals by e-mail.",
        )),
        T("关于{unit}办公地点调整的通知", "Notice: {unit} moves office", (
            "因工作需要，{unit}办公地点自{date}起调整。",
            "调整期间，各项业务照常办理，联系电话保持不变。",
            "给大家带来的不便，敬请谅解。",
        ), (
            "{Unit} moves to a new office on {date}.",
            "Business continues as usual during the move, and the telephone number stays the same.",
            "We apologise for any inconvenience.",
        )),
    ],
    "politics": [
        T("{unit}就社区养老服务开展专题调研", "{Unit} studies elderly care in the community", (
            "{date}，{unit}组织会员就社区养老服务开展专题调研。",
            "调研组走访了三个街道的养老服务中心，与工作人员和老年居民座谈交流。",
            "调研形成的意见建议将整理成提案，提交有关部门参考。",
        ), (
            "On {date}, {unit} sent a group of members to study elderly-care services in local communities.",
            "The group visited care centres in three neighbourhoods and talked with staff and older residents.",
            "Its findings will be written up as a proposal for the departments concerned.",
        )),
        T("{unit}召开提案工作座谈会", "{Unit} meets to discuss its proposals", (
            "{date}，{unit}召开提案工作座谈会，交流提案撰写经验。",
            "与会会员围绕教育、医疗、营商环境等议题提出了十余条建议。",
            "会议要求，提案要坚持问题导向，做到言之有据、言之有物。",
        ), (
            "On {date}, {unit} held a meeting on proposal work, where members compared notes on drafting.",
            "Members put forward more than ten suggestions on education, health care and the business "
            "environment.",
            "The meeting asked that proposals start from real problems and rest on evidence.",
        )),
        T("{unit}关于乡村振兴的建议获有关部门采纳", "{Unit}'s advice on rural revitalisation is taken up", (
            "{date}，{unit}关于推进乡村振兴的调研建议获有关部门采纳。",
            "建议围绕农村人才培养、特色产业发展和基层治理提出了具体措施。",
            "{unit}表示，将继续跟踪建议落实情况，做好后续调研。",
        ), (
            "On {date}, recommendations by {unit} on rural revitalisation were adopted by the departments "
            "concerned.",
            "They set out concrete measures for training rural talent, developing local industries and "
            "improving community governance.",
            "{Unit} will follow how the recommendations are put into practice.",
        )),
        T("{unit}举办参政议政能力提升培训", "{Unit} trains members in policy advice", (
            "{date}，{unit}举办参政议政能力提升培训，邀请专家讲授调研方法和提案写作。",
            "学员们结合各自领域，分组讨论了年度调研选题。",
            "培训结束后，各组提交了调研工作计划。",
        ), (
            "On {date}, {unit} ran a course on policy advice, with experts teaching research methods and "
            "proposal writing.",
            "Participants discussed this year's research topics in groups by field.",
            "Each group handed in a research plan at the end of the course.",
        )),
    ],
    "organisation": [
        T("{unit}召开委员会会议研究发展党员工作", "{Unit}'s committee discusses new members", (
            "{date}，{unit}召开委员会会议，研究发展党员工作。",
            "会议对入党积极分子的培养考察情况进行了讨论，确定了下一阶段的培养计划。",
            "会议强调，发展党员要坚持标准、严格程序，确保质量。",
        ), (
            "On {date}, {unit}'s committee met to discuss admitting new members.",
            "It reviewed how the applicants are being trained and assessed, and set the next stage of their "
            "training.",
            "The committee stressed that admission must keep to the standards and the procedure.",
        )),
        T("{unit}完成换届选举", "{Unit} elects a new committee", (
            "{date}，{unit}召开党员大会，选举产生新一届委员会。",
            "大会听取并审议了上一届委员会的工作报告。",
            "新当选的委员表示，将团结带领全体党员做好各项工作。",
        ), (
            "On {date}, {unit} held a general meeting of members and elected a new committee.",
            "The meeting heard and discussed the outgoing committee's report.",
            "The newly elected committee members pledged to lead the members in all their work.",
        )),
        T("{unit}举办新任支部书记培训班", "{Unit} trains new branch secretaries", (
            "{date}，{unit}举办新任支部书记培训班，二十余名学员参加培训。",
            "培训内容包括组织生活制度、党员教育管理和党务工作实务。",
            "学员们表示，培训内容贴近实际，对做好支部工作很有帮助。",
        ), (
            "On {date}, {unit} ran a course for new branch secretaries, attended by more than twenty people.",
            "The course covered the rules of Party life, the education and management of members, and "
            "practical branch work.",
            "Participants said the course was practical and would help them run their branches.",
        )),
        T("{unit}修订完善组织生活制度", "{Unit} updates its rules for Party life", (
            "{unit}近日修订完善了组织生活制度，进一步规范三会一课等工作。",
            "新制度明确了会议频次、记录要求和党员请假程序。",
            "制度自{date}起施行。",
        ), (
            "{Unit} has revised its rules for Party life, setting out how branch meetings and Party lessons "
            "are run.",
            "The new rules fix how often meetings are held, how they are recorded and how members ask for leave.",
            "They take effect on {date}.",
        )),
    ],
    "members": [
        T("{person}：社区里的热心志愿者", "{person}: the volunteer the neighbourhood relies on", (
            "{person}是{unit}的一名会员，业余时间坚持在社区参加志愿服务。",
            "五年来，{person}累计服务时长超过六百小时，帮助了许多独居老人。",
            "{date}，{person}被评为本年度优秀志愿者。",
        ), (
            "{person}, a member of {unit}, volunteers in the neighbourhood in their spare time.",
            "Over five years {person} has given more than six hundred hours, much of it to older people living "
            "alone.",
            "On {date}, {person} was named one of the year's outstanding volunteers.",
        )),
        T("{unit}志愿服务队走进社区开展健康咨询", "{Unit}'s volunteers hold a free health advice day", (
            "{date}，{unit}志愿服务队走进社区，为居民提供免费健康咨询。",
            "志愿者们为老年居民测量血压，讲解常见病预防知识。",
            "当天共服务居民一百余人次。",
        ), (
            "On {date}, volunteers from {unit} held a free health advice day in a local community.",
            "They checked older residents' blood pressure and explained how to prevent common illnesses.",
            "More than a hundred residents came.",
        )),
        T("{person}：扎根讲台三十年的优秀教师", "{person}: thirty years in the classroom", (
            "{person}是{unit}的会员，在基层学校任教三十年。",
            "{person}长期担任班主任，所带班级多次获评先进集体。",
            "{date}，{person}获得本市优秀教师称号。",
        ), (
            "{person}, a member of {unit}, has taught at a local school for thirty years.",
            "As a form teacher, {person} has seen the class win awards many times.",
            "On {date}, {person} was named one of the city's outstanding teachers.",
        )),
        T("{unit}表彰年度优秀会员", "{Unit} honours its outstanding members of the year", (
            "{date}，{unit}召开表彰会，对十名年度优秀会员进行表彰。",
            "受表彰的会员来自教育、医疗、科技等不同领域，在各自岗位上作出了突出成绩。",
            "{unit}号召全体会员向先进学习，立足本职，争创佳绩。",
        ), (
            "On {date}, {unit} honoured ten members for their work during the year.",
            "They come from education, health care, science and other fields, and have each done outstanding "
            "work.",
            "{Unit} called on all members to learn from their example.",
        )),
    ],
}


@dataclass
class Article:
    """One generated article in both languages; ``english`` maps each Chinese text to its translation."""

    column: str
    date: dt.date
    title: str
    paragraphs: list[str]
    en_title: str
    en_paragraphs: list[str]

    @property
    def english(self) -> dict[str, str]:
        return {self.title: self.en_title, **dict(zip(self.paragraphs, self.en_paragraphs, strict=True))}


def zh_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def en_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def caption(title: str, day: dt.date | None) -> str:
    """An editor's caption: when, then what — 2024年5月，机关党支部开展主题党日活动."""
    title = title.split("】", 1)[-1].strip() if title.startswith("【") else title
    return f"{day.year}年{day.month}月，{title}" if day else title


def en_caption(title: str, day: dt.date | None) -> str:
    return f"{title} ({MONTHS[day.month - 1]} {day.year})" if day else title


def own_articles(column: str, count: int, start: int = 0, newest: dt.date = dt.date(2026, 11, 20)) -> list[Article]:
    """``count`` articles for ``column``: the n-th combines template n, unit n and person n (in turns of
    different lengths, so titles don't repeat for a while), dated about a week apart backwards from ``newest``."""
    templates = TEMPLATES[column]
    out = []
    for n in itertools.islice(itertools.count(start), count):
        template = templates[n % len(templates)]
        unit, unit_en = UNITS[n % len(UNITS)]  # 4 templates, 5 units: 20 different pairs in a row
        person, person_en = PEOPLE[(n + n // 20) % len(PEOPLE)]
        day = newest - dt.timedelta(days=(9 * n + (n * 5) % 7) % 1460)  # within four years
        zh = {"unit": unit, "person": person, "date": zh_date(day)}
        en = {"unit": unit_en, "Unit": unit_en[0].upper() + unit_en[1:], "person": person_en, "date": en_date(day)}
        out.append(Article(
            column=column, date=day,
            title=template.zh_title.format(**zh), paragraphs=[p.format(**zh) for p in template.zh],
            en_title=_sentence(template.en_title.format(**en)), en_paragraphs=[_sentence(p.format(**en)) for p in template.en],
        ))
    return out


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


# English for the demo's fixed pages and blocks, keyed by the Chinese text it translates.
FIXED_ENGLISH = {
    # home and columns
    "书苑党建工作平台": "Shuyuan Party-Building Platform",
    "组织动态、学习资料、线上展览与红色云图，一站汇集。": "Our news, study materials, an online exhibition and a map of red heritage sites, in one place.",
    "党建工作与学习的综合平台。": "A platform for Party-building work and study.",
    "本组织及各支部的工作动态。": "News from the organisation and its branches.",
    "面向会员和社会公开的通知、公告。": "Notices and announcements for members and the public.",
    "调研成果、提案建议与参政议政工作。": "Research, proposals and our work in policy advice.",
    "组织发展、支部建设与制度规范。": "How the organisation grows, how its branches work, and its rules.",
    "会员的先进事迹与风采展示。": "Stories of our members and their work.",
    # library
    "党建书苑": "Shuyuan Study Library",
    "在线学习资料库：文章、文件、音视频与微党课、微党史、微感悟、微提示。":
        "An online study library: articles, documents, audio and video, micro lessons, micro history, "
        "reflections and tips.",
    "党员在线学习的资料库，支持全文检索。部分资料仅对登录会员开放。":
        "A library for members' online study, with full-text search. Some materials are open to signed-in "
        "members only.",
    # red heritage
    "红色云图": "Red Heritage Map",
    "汇集全国各地红色场馆与线上展览，按省份和类别浏览。":
        "Red heritage sites and online exhibitions across China, by province and by kind.",
    # micro materials
    "微党课：三会一课怎么开": "Micro lesson: how to run branch meetings and Party lessons",
    "三会一课怎么开": "How to run branch meetings and Party lessons",
    "三会一课怎么开。本资料供各支部组织学习使用。": "How to run branch meetings and Party lessons. For study in the branches.",
    "微党史：遵义会议的历史意义": "Micro history: why the Zunyi Conference mattered",
    "遵义会议的历史意义": "Why the Zunyi Conference mattered",
    "遵义会议的历史意义。本资料供各支部组织学习使用。": "Why the Zunyi Conference mattered. For study in the branches.",
    "微感悟：在主题党日中重温入党誓词": "Reflection: renewing the oath on a Party Day",
    "在主题党日中重温入党誓词": "Renewing the oath on a Party Day",
    "在主题党日中重温入党誓词。本资料供各支部组织学习使用。": "Renewing the oath on a Party Day. For study in the branches.",
    "微提示：两学一做学习教育常态化": "Tip: keeping up regular study",
    "两学一做学习教育常态化": "Keeping up regular study",
    "两学一做学习教育常态化。本资料供各支部组织学习使用。": "Keeping up regular study. For study in the branches.",
}

# The online exhibition: (Chinese, English) for every text; the prologue says how many units there are.
EXHIBITION = {
    "title": ("光辉历程——党史图片展", "A Glorious Journey: Party History in Pictures"),
    "subtitle": ("线上展览", "Online exhibition"),
    "curator": ("书苑编辑部", "Shuyuan editorial office"),
    "summary": ("以图片和时间线回顾党的光辉历程，适合在手机上浏览。",
                "The Party's history in pictures and a timeline, made for reading on a phone."),
    "prologue": (("序厅", "Prologue"), (
        "本展览以时间为序，分为四个单元，以图片和时间线回顾中国共产党的光辉历程。",
        "The exhibition follows the years in four units, telling the Party's history in pictures and a timeline.",
    )),
    "units": [
        {
            "heading": ("第一单元 开天辟地（1921—1949）", "Unit 1: A new beginning (1921–1949)"),
            "text": ("1921年，中国共产党诞生。从此，中国革命的面貌焕然一新。",
                     "In 1921 the Communist Party of China was founded, and the Chinese revolution took on a new look."),
            "caption": ("1921年7月，中共一大在上海召开", "July 1921: the Party's First National Congress meets in Shanghai"),
            "note": ("大会最后一天的会议转移到嘉兴南湖的一条游船上举行。",
                     "The congress held its last day's session on a boat on Nanhu Lake in Jiaxing."),
            "timeline": [
                (("1921年7月", "July 1921"), ("中国共产党第一次全国代表大会召开", "The Party's First National Congress"),
                 ("大会在上海召开，后转移至嘉兴南湖。", "It opened in Shanghai and closed on Nanhu Lake in Jiaxing.")),
                (("1927年8月", "August 1927"), ("南昌起义", "The Nanchang Uprising"),
                 ("打响武装反抗国民党反动派的第一枪。", "The first shot of the armed struggle against the Kuomintang reactionaries.")),
                (("1935年1月", "January 1935"), ("遵义会议", "The Zunyi Conference"),
                 ("在生死攸关的转折关头召开的重要会议。", "A meeting held at a turning point of life and death.")),
                (("1949年10月", "October 1949"), ("中华人民共和国成立", "The People's Republic of China is founded"), ("", "")),
            ],
        },
        {
            "heading": ("第二单元 改天换地（1949—1978）", "Unit 2: Remaking the country (1949–1978)"),
            "text": ("新中国成立后，党领导人民完成社会主义革命，确立社会主义基本制度。",
                     "After 1949 the Party led the people through the socialist revolution and laid down the basic "
                     "socialist system."),
            "caption": ("1954年9月，第一届全国人民代表大会召开", "September 1954: the first National People's Congress meets"),
            "note": ("大会通过了新中国第一部宪法。", "The congress adopted the first constitution of the People's Republic."),
        },
        {
            "heading": ("第三单元 翻天覆地（1978—2012）", "Unit 3: Reform and opening up (1978–2012)"),
            "text": ("党的十一届三中全会开启了改革开放和社会主义现代化建设的新时期。",
                     "The Third Plenary Session of the 11th Central Committee opened the era of reform, opening up "
                     "and socialist modernisation."),
            "caption": ("1978年12月，党的十一届三中全会召开",
                        "December 1978: the Third Plenary Session of the 11th Central Committee"),
            "note": ("全会作出把党和国家工作中心转移到经济建设上来的决策。",
                     "The session decided to make economic development the centre of the Party's and the country's work."),
        },
        {
            "heading": ("第四单元 惊天动地（2012年以来）", "Unit 4: A new era (since 2012)"),
            "text": ("中国特色社会主义进入新时代，全面建成小康社会，开启全面建设社会主义现代化国家新征程。",
                     "Socialism with Chinese characteristics entered a new era: a moderately prosperous society was "
                     "completed and the building of a modern socialist country began."),
            "caption": ("2021年7月，庆祝中国共产党成立100周年大会在北京举行",
                        "July 2021: the ceremony marking the Party's centenary in Beijing"),
            "note": ("大会宣告在中华大地上全面建成了小康社会。",
                     "The ceremony declared that a moderately prosperous society had been built in all respects."),
        },
    ],
    "epilogue": (("结语", "Epilogue"), ("回望历史，砥砺前行。", "We look back on history to go forward with resolve.")),
}

# Red heritage sites: Chinese name -> English name; city -> English.
RED_SITES_EN = {
    "中共一大纪念馆": "Memorial of the First National Congress of the CPC",
    "嘉兴南湖革命纪念馆": "Jiaxing Nanhu Revolutionary Memorial Hall",
    "井冈山革命博物馆": "Jinggangshan Revolutionary Museum",
    "南昌八一起义纪念馆": "Nanchang August First Uprising Memorial Hall",
    "古田会议纪念馆": "Gutian Conference Memorial Hall",
    "遵义会议纪念馆": "Zunyi Conference Memorial Hall",
    "延安革命纪念馆": "Yan'an Revolutionary Memorial Hall",
    "西柏坡纪念馆": "Xibaipo Memorial Hall",
    "中国人民革命军事博物馆": "Military Museum of the Chinese People's Revolution",
    "香山革命纪念馆": "Xiangshan Revolutionary Memorial Hall",
    "红岩革命纪念馆": "Hongyan Revolutionary Memorial Hall",
    "八路军太行纪念馆": "Eighth Route Army Taihang Memorial Hall",
    "韶山毛泽东同志纪念馆": "Shaoshan Memorial Hall of Comrade Mao Zedong",
    "中国共产党历史展览馆（网上展馆）": "Museum of the Communist Party of China (online galleries)",
}
CITIES_EN = {
    "上海": "Shanghai", "嘉兴": "Jiaxing", "井冈山": "Jinggangshan", "南昌": "Nanchang", "龙岩": "Longyan",
    "遵义": "Zunyi", "延安": "Yan'an", "石家庄": "Shijiazhuang", "北京": "Beijing", "重庆": "Chongqing",
    "长治": "Changzhi", "湘潭": "Xiangtan",
}


def red_site_text(name: str, city: str) -> tuple[str, str]:
    """A red site's description in Chinese and English."""
    return (f"{name}位于{city}，是开展党史学习教育的重要阵地。",
            f"{RED_SITES_EN[name]}, in {CITIES_EN[city]}, is a place where members come to learn the Party's history.")


def exhibition_english() -> dict[str, str]:
    """Chinese -> English for every text of the exhibition."""
    pairs = [EXHIBITION[k] for k in ("title", "subtitle", "curator", "summary")]
    for part in ("prologue", "epilogue"):
        pairs.extend(EXHIBITION[part])
    for unit in EXHIBITION["units"]:
        pairs.extend(unit[k] for k in ("heading", "text", "caption", "note"))
        for entry in unit.get("timeline", []):
            pairs.extend(entry)
    return {zh: en for zh, en in pairs if zh}
