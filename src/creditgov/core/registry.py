"""Imports every domain's tables so the metadata (and Alembic) sees the whole schema."""

from creditgov.catalog import models as _catalog  # noqa: F401
from creditgov.core.db import Base
from creditgov.ingest import models as _ingest  # noqa: F401
from creditgov.lists import models as _lists  # noqa: F401
from creditgov.records import models as _records  # noqa: F401
from creditgov.scoring import models as _scoring  # noqa: F401
from creditgov.security import models as _security  # noqa: F401
from creditgov.subjects import models as _subjects  # noqa: F401

metadata = Base.metadata
