"""The vocabulary firms, shops, homestays and places are named from, and the name pools
Faker fills once per seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from faker import Faker

# Industry labels in the market register -> our industry codes (a `map` step).
INDUSTRIES = {
    "童装": "childrenswear", "电子商务": "ecommerce", "民宿": "homestay", "制造业": "manufacturing",
    "餐饮": "catering", "零售": "retail", "建筑业": "construction", "农业": "agriculture",
    "物流": "logistics", "社会服务": "social_service",
}
_ENT_IND = (("制造业", 22), ("童装", 22), ("电子商务", 12), ("建筑业", 10), ("物流", 8),
            ("农业", 7), ("零售", 12), ("餐饮", 7))
_PARK_IND = (("制造业", 45), ("童装", 35), ("物流", 10), ("电子商务", 10))
_MERCH_IND = (("零售", 33), ("餐饮", 25), ("电子商务", 15), ("童装", 12), ("农业", 8), ("物流", 7))
_ENT_WORDS = {
    "制造业": ("机械", "五金", "新材料", "电子", "塑业", "纺织", "电器"),
    "童装": ("童装", "服饰", "童装服饰", "织造", "制衣"),
    "电子商务": ("电子商务", "网络科技", "电商", "信息科技"),
    "建筑业": ("建设", "建筑工程", "装饰工程", "市政工程"),
    "物流": ("物流", "运输", "供应链管理", "货运"),
    "农业": ("农业开发", "生态农业", "茶业", "果蔬"),
    "零售": ("商贸", "贸易", "百货"),
    "餐饮": ("餐饮管理", "食品"),
}
_SHOP_WORDS = {
    "零售": ("便利店", "超市", "五金店", "日杂店", "烟酒店"),
    "餐饮": ("小吃店", "面馆", "饭店", "早餐店", "快餐店"),
    "电子商务": ("网店", "电子商务商行", "直播工作室"),
    "童装": ("童装店", "童装加工厂", "服装加工坊"),
    "农业": ("家庭农场", "种植场", "养殖场"),
    "物流": ("货运部", "快递服务部"),
}
_WORD_CHARS = "鑫华盛达祥瑞丰泰恒兴隆昌永安康宏远博睿嘉诚信德顺和美佳益源汇通创新晟宇航晨星辰耀锦绣金银聚凯富豪广"
_HOMESTAY_WORDS = ("山居", "听溪", "云栖", "竹语", "望山", "枕水", "桃源", "花间", "松风", "半山", "溪畔", "梅影")
_HOMESTAY_SUFFIX = ("民宿", "小院", "客栈", "山庄", "别院")
_ASSOC_TOPICS = ("童装行业", "电子商务", "民宿", "个体劳动者", "志愿者", "慈善", "老年", "青年创业", "书法",
                 "摄影", "篮球", "象棋", "家政服务", "物流行业", "餐饮行业")
_PLACES = ("城西", "城南", "城北", "青溪", "桃源", "梅岭", "桂花", "松岗", "柳塘", "龙潭", "凤鸣", "云岫",
           "石门", "金沙", "玉泉", "白鹭", "清风", "明月", "双溪", "三江", "长乐", "永安", "太平", "新塘",
           "古城", "茶园", "杏林", "枫桥", "芦花", "荷塘", "仙居", "望湖", "观山", "黄岭", "红石", "绿野",
           "银杏", "翠屏", "紫荆", "丰收", "大洋", "横山", "塔山", "虹桥", "湖滨", "江口", "沙洲", "东坞")


def _gb2312(s: str) -> bool:
    try:
        s.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class _Pools:
    surnames: tuple[str, ...]
    male: tuple[str, ...]
    female: tuple[str, ...]
    roads: tuple[str, ...]


def _make_pools(seed: int) -> _Pools:
    """Faker fills small pools once; the seeded random combines them per subject."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(f"creditgov.demo:{seed}:pools")
    surnames = [s for s in (fake.last_name() for _ in range(3000)) if _gb2312(s)]
    male = [s for s in (fake.first_name_male() for _ in range(1200)) if _gb2312(s)]
    female = [s for s in (fake.first_name_female() for _ in range(1200)) if _gb2312(s)]
    # Faker's given names are few; two-character names glued from their characters widen
    # the pool so a million residents are not all 王伟.
    for pool in (male, female):
        chars = sorted({c for g in pool for c in g})
        pool += [rng.choice(chars) + rng.choice(chars) for _ in range(1200)]
    roads = sorted({r for r in (fake.street_name() for _ in range(400)) if _gb2312(r)})
    return _Pools(tuple(surnames), tuple(male), tuple(female), tuple(roads))
