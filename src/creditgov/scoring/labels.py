"""Labels of the scoring domain's codes: models by title (the packs' `title` /
`title_en`), a reference `name@version` as "title (version n)", a model version's and
a run's status, grades written in Chinese characters. Registered by `bootstrap.wire()`."""

from __future__ import annotations

import yaml

from creditgov.core.labels import Names
from creditgov.scoring.service import shipped_texts


def _models() -> Names:
    out = {}
    for name, text in shipped_texts().items():
        doc = yaml.safe_load(text) or {}
        title = str(doc.get("title") or name)
        out[str(doc.get("name") or name)] = (title, str(doc.get("title_en") or title))
    return out


def _grades() -> Names:
    """Grade labels written in Chinese characters (Changxing's 优/良/差), named in English
    by their shared band; letter grades are their own label in both languages."""
    out: dict[str, tuple[str, str]] = {}
    for text in shipped_texts().values():
        for g in (yaml.safe_load(text) or {}).get("grades") or []:
            label, band = str(g.get("label", "")), g.get("band")
            if band and any("\u4e00" <= ch <= "\u9fff" for ch in label):
                out.setdefault(label, (label, str(band).capitalize()))
    return out


def model_ref(title: str, version: str, lang: str) -> str:
    return f"{title} (version {version})" if lang == "en" else f"{title}（第{version}版）"


MODEL_STATUS: Names = {"draft": ("草稿", "Draft"), "published": ("已发布", "Published")}
RUN_STATUS: Names = {"running": ("运行中", "Running"), "done": ("已完成", "Done"), "failed": ("失败", "Failed"),
                     "published": ("已发布", "Published"), "draft": ("待发布", "Not published")}

LABELS = {"model": _models, "model_status": MODEL_STATUS, "run_status": RUN_STATUS, "grade": _grades}
REFS = {"model": model_ref}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "model.register_shipped": ("登记内置评价模型", "Shipped model registered"),
    "model.draft": ("起草评价模型", "Model drafted"),
    "model.publish": ("发布评价模型", "Model published"),
    "evaluation.run": ("运行信用评价", "Evaluation run"),
    "evaluation.publish": ("发布评价结果", "Evaluation published"),
    "evaluation.reevaluate": ("重新评价", "Subject re-evaluated"),
    "scores.export": ("导出评价结果", "Scores exported"),
}
