"""The made-up material of the synthetic district (``directory_synthetic``): streets and their grids,
industries with the words of a business name, departments with their officers' numbers and fields, and
the shares of risk classes, types and inspection results."""

from __future__ import annotations

from datetime import date

#: the day the synthetic district is seen from: its last inspections are before it
REFERENCE_DAY = date(2026, 11, 30)

#: (street code, grid code prefix, grids, share of the objects), in the order of organisation.yaml; the
#: grids are those of the grid directory (``ZH-001`` …), the urban 中韩 and 金家岭 hold the most objects
STREETS = (
    ("ZHONGHAN", "ZH", 200, 0.33),
    ("SHAZIKOU", "SZK", 130, 0.18),
    ("WANGGEZHUANG", "WGZ", 90, 0.11),
    ("BEIZHAI", "BZ", 64, 0.08),
    ("JINJIALING", "JJL", 170, 0.30),
)
RURAL = frozenset({"SHAZIKOU", "WANGGEZHUANG", "BEIZHAI"})

#: the shares of sampling.yaml's risk classes
RISK_SHARES = (("A", 0.40), ("B", 0.35), ("C", 0.20), ("D", 0.05))
#: when the classes were last assessed (quarterly), and how many objects each day
RISK_DAYS = ((date(2026, 3, 31), 0.1), (date(2026, 6, 30), 0.3), (date(2026, 9, 30), 0.6))

#: (type, USCC's second character, share in town, share in the country)
TYPES = (
    ("enterprise", "1", 0.62, 0.40),
    ("individual", "2", 0.37, 0.52),
    ("cooperative", "3", 0.01, 0.08),
)

#: GB/T 4754-2017 codes: (code, the word in a name, weight, the department leading its inspections)
INDUSTRIES = (
    ("F5211", "百货", 6, "SCJG"),
    ("F5212", "超市", 8, "SCJG_SP"),
    ("F5223", "果蔬", 6, "SCJG_SP"),
    ("F5224", "水产", 6, "SCJG_SP"),
    ("F5226", "茶叶", 5, "SCJG_SP"),
    ("F5251", "药房", 3, "SCJG_YP"),
    ("F5261", "汽车销售", 2, "SCJG"),
    ("H6110", "酒店", 3, "SCJG"),
    ("H6210", "餐饮", 12, "SCJG_SP"),
    ("H6220", "快餐", 6, "SCJG_SP"),
    ("C1513", "啤酒", 1, "SCJG_SP"),
    ("C1530", "茶业", 2, "SCJG_SP"),
    ("E4710", "建筑工程", 4, "SCJG"),
    ("I6513", "软件科技", 6, "SCJG"),
    ("K7010", "置业", 2, "SCJG"),
    ("L7259", "广告", 4, "SCJG"),
    ("O8040", "美容美发", 6, "SCJG"),
    ("A0141", "蔬菜种植", 3, "SCJG_SP"),
)
#: what a cooperative (农民专业合作社) grows
COOPERATIVE_GOODS = (("A0141", "蔬菜"), ("C1530", "茶叶"), ("A0141", "樱桃"), ("A0141", "草莓"))
SHOPS = ("店", "行", "馆", "铺", "中心", "部")
BRANDS = "海山崂鑫源泰华润丰盛恒福瑞祥鸿宏达安康嘉和顺兴德金银青岛云浩东方美佳聚宝仁信诚"

#: (result code, share) of the last inspections
RESULT_SHARES = (
    ("no_problem", 0.67),
    ("no_activity", 0.05),
    ("corrected", 0.12),
    ("follow_up", 0.03),
    ("not_publicised", 0.04),
    ("false_publicity", 0.01),
    ("unreachable", 0.05),
    ("refused", 0.01),
    ("closed", 0.02),
)
#: the share of objects with a last inspection, spread over the 3 years before REFERENCE_DAY
INSPECTED_SHARE = 0.35
INSPECTION_YEARS = 3

#: (department code of organisation.yaml, officers, their fields of inspection 执法领域); 800 officers
DEPARTMENTS = (
    ("SCJG", 180, ("登记注册", "广告", "价格", "产品质量", "特种设备", "计量", "知识产权", "网络交易")),
    ("SCJG_SP", 90, ("食品经营", "食品生产", "餐饮服务", "食用农产品")),
    ("SCJG_YP", 60, ("药品经营", "医疗器械", "化妆品")),
    ("SJ_SCJG", 40, ("第三类医疗器械", "药品生产", "工业产品生产许可")),
    ("WJJ", 60, ("公共场所卫生", "医疗机构", "生活饮用水", "职业卫生")),
    ("GAFJ", 60, ("旅馆业", "特种行业", "印章刻制")),
    ("WLJ", 30, ("文化市场", "旅行社", "娱乐场所")),
    ("YJJ", 40, ("危险化学品", "烟花爆竹", "安全生产")),
    ("JTJ", 35, ("道路运输", "机动车维修", "驾驶员培训")),
    ("XFJY", 40, ("消防安全",)),
    ("YCJ", 25, ("烟草专卖",)),
    ("RSJ", 25, ("劳动保障", "人力资源服务")),
    ("CGJ", 35, ("燃气", "户外广告设施", "市容环境")),
    ("NYJ", 30, ("兽药", "农药", "种子", "动物诊疗")),
    ("STHJ", 30, ("排污许可", "环境影响评价")),
    ("XCB", 10, ("出版物",)),
    ("PTB", 10, ("综合监管",)),
)
#: city-level departments: their certificates are numbered in the city (3702 00), not the district
CITY = frozenset({"SJ_SCJG"})
INACTIVE_SHARE = 0.04
#: every department keeps at least this many active officers
MIN_ACTIVE = 4
CONFLICT_SHARE = 0.03

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万覃武钱戴严莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂玉萍红华建国志峰鹏辉斌宇浩凯健俊帆"
    "晨欣怡佳琳雪梅海燕波宁亮成林文晓慧颖婷倩淑珍春新德福顺利兴旺振家乐"
)
