"""Labels of the scoring domain's codes: models by title (the packs' `title` /
`title_en`), a reference `name@version` as "title (version n)", a model version's and
a run's status. Registered by `bootstrap.wire()`."""

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


def model_ref(title: str, version: str, lang: str) -> str:
    return f"{title} (version {version})" if lang == "en" else f"{title}（第{version}版）"


MODEL_STATUS: Names = {"draft": ("草稿", "Draft"), "published": ("已发布", "Published")}
RUN_STATUS: Names = {"running": ("运行中", "Running"), "done": ("已完成", "Done"), "failed": ("失败", "Failed"),
                     "published": ("已发布", "Published"), "draft": ("待发布", "Not published")}

LABELS = {"model": _models, "model_status": MODEL_STATUS, "run_status": RUN_STATUS}
REFS = {"model": model_ref}
