"""The keyword rules a fresh install starts with: at least one for every category of the default catalogue.

Data, not code: each row is (category code, regular expression, priority). The migration
`triage/0003` writes them as `KeywordRule`s with `auto_apply=False` and the note "默认规则", so a
new county gets a category suggestion from its first demand while a person still confirms it; from
then on they are ordinary rules, edited, disabled or deleted in the back office through
`keyword_rule_update` / `keyword_rule_delete` like any other (the migration never runs again).

Higher priority acts first: narrow phrases (加装电梯, 改厕, 消防通道) sit above the broad words they
contain (电梯, 厕所, 消防), and safety hazards above everything else. A rule only suggests: the
classifier, once trained on the county's own history, overrides a rule when it is sure enough to
apply a category by itself (`services.suggest`). `tests/test_default_rules.py` checks that every
active leaf category of the default catalogue has a rule and that each pattern compiles.
"""

from __future__ import annotations

NOTE = "默认规则"

# (category code, pattern, priority)
DEFAULT_RULES: list[tuple[str, str, int]] = [
    # 12 安全隐患: first, whatever else the text mentions
    ("1201", r"燃气|煤气|天然气|液化气|液化石油气", 90),
    ("1203", r"危房|危险房屋|房屋.{0,6}(开裂|裂缝|倾斜|倒塌)|墙体.{0,4}(开裂|裂缝)", 85),
    ("1001", r"消防通道.{0,6}(堵|占|停)|(堵|占|停).{0,6}消防通道|乱停|违停|乱停乱放", 82),
    ("1202", r"消防|火灾|着火|起火|灭火器|飞线充电|电动车.{0,6}充电", 80),
    # narrow phrases above the broad words they contain
    ("0604", r"加装电梯|增设电梯|装电梯", 75),
    ("0304", r"改厕|旱厕|改造.{0,4}厕所|厕所.{0,4}改造", 75),
    ("0103", r"井盖", 72),
    ("0203", r"(水管|管道|自来水管|供水管).{0,6}(漏|爆|破|裂)|爆管", 72),
    ("0602", r"(房屋|屋顶|天花板|楼上|顶楼|墙面|卫生间|外墙).{0,8}(漏水|渗水|漏雨)", 70),
    ("0402", r"(树|树木|树枝|大树).{0,6}(倒|断|吹倒|倒伏|折断)", 70),
    ("0401", r"枯树|枯死|死树|枯枝", 68),
    ("0802", r"(学校|校门|校园|幼儿园|放学|上学).{0,10}(安全|车辆|危险|拥堵|乱停|隐患)", 66),
    ("0303", r"污水|下水道|化粪池|排水沟|阴沟", 65),
    ("0302", r"公厕|公共厕所|厕所", 60),
    # the rest of the catalogue
    ("0101", r"路面.{0,4}(破损|坑洼|塌陷|开裂|不平)|坑洼|(道路|马路|村道|人行道|地砖).{0,6}(坑|破|塌|松动|翘)", 55),
    ("0102", r"路灯|街灯|照明灯", 55),
    ("0201", r"停水|没水|断水|水压.{0,2}(低|小)|供水.{0,4}(中断|不足)", 55),
    ("0202", r"停电|跳闸|断电|没电|电压.{0,2}(低|不稳)", 55),
    ("0301", r"垃圾", 55),
    ("0403", r"绿化带|草坪|绿地|杂草|绿化", 50),
    ("0501", r"噪音|噪声|扰民|音响.{0,4}(大|响|吵)|太吵", 55),
    ("0503", r"家庭矛盾|家暴|夫妻|婆媳|赡养|离婚", 55),
    ("0502", r"邻居|宅基地|界址|相邻|通道.{0,4}(搭|占)", 45),
    ("0601", r"电梯", 50),
    ("0603", r"物业", 50),
    ("0701", r"独居|空巢|孤寡|留守老人", 55),
    ("0702", r"低保|救助|特困|困难补助|临时救助", 55),
    ("0703", r"残疾|残联|轮椅", 55),
    ("0801", r"入学|报名|学位|转学|学区", 50),
    ("0901", r"就医|看病|挂号|医保|医院", 50),
    ("0902", r"疫苗|传染|消杀|蚊虫|老鼠|蟑螂|卫生室|防疫", 50),
    ("1002", r"停车位|车位|停车难|停车场", 50),
    ("1003", r"红绿灯|信号灯|护栏|标志牌|斑马线|站台|减速带|交通标志", 50),
    ("1101", r"价格|乱收费|涨价|多收|收费", 45),
    ("1102", r"食品|过期|变质|后厨|食物中毒|卫生差", 50),
    ("1103", r"占道|摊贩|摆摊|流动摊|夜宵摊", 50),
]
