"""Imports every domain's tables so the metadata (and Alembic) sees the whole schema."""

from creditgov.alerts import models as _alerts  # noqa: F401
from creditgov.catalog import models as _catalog  # noqa: F401
from creditgov.commitments import models as _commitments  # noqa: F401
from creditgov.core.db import Base
from creditgov.ingest import models as _ingest  # noqa: F401
from creditgov.lists import models as _lists  # noqa: F401
from creditgov.measures import models as _measures  # noqa: F401
from creditgov.records import models as _records  # noqa: F401
from creditgov.reports import models as _reports  # noqa: F401
from creditgov.scoring import models as _scoring  # noqa: F401
from creditgov.security import accounts as _accounts  # noqa: F401
from creditgov.security import models as _security  # noqa: F401
from creditgov.subjects import models as _subjects  # noqa: F401
from creditgov.supervision import models as _supervision  # noqa: F401
from creditgov.worker import models as _worker  # noqa: F401
from creditgov.workflows import models as _workflows  # noqa: F401

metadata = Base.metadata
