"""The sign-in policy (`data/signin.yaml`): lock-out, rate limits, passwords and the
cost of hashing them, the second factor, session time-outs and API token lifetimes,
each with its basis. Figures that law and local practice set are data beside the code
that reads them, so a deployment changes them by putting its own file in place
(`CREDITGOV_SIGNIN_POLICY`), validated the same way, rather than by editing code."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from creditgov.core.config import PolicyFile
from creditgov.security.scopes import Role

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Lockout(BaseModel):
    model_config = _FROZEN
    failures: int = Field(ge=1, le=100)
    minutes: int = Field(ge=1, le=24 * 60)
    basis: str = Field(min_length=1)


class Window(BaseModel):
    model_config = _FROZEN
    failures: int = Field(ge=1, le=100_000)
    seconds: int = Field(ge=1, le=7 * 86400)


class Rates(BaseModel):
    model_config = _FROZEN
    per_account: Window
    per_address: Window
    basis: str = Field(min_length=1)


class Passwords(BaseModel):
    model_config = _FROZEN
    min_length: int = Field(ge=8, le=128)
    min_score: int = Field(ge=0, le=4)
    privileged_roles: list[Role]
    privileged_min_length: int = Field(ge=8, le=128)
    privileged_min_score: int = Field(ge=0, le=4)
    history: int = Field(ge=0, le=24)
    expiry_days: int = Field(ge=0, le=3650)
    basis: str = Field(min_length=1)

    def rules_for(self, role: Role) -> tuple[int, int]:
        """(minimum length, minimum strength score) for an account of `role`."""
        if role in self.privileged_roles:
            return max(self.min_length, self.privileged_min_length), max(self.min_score, self.privileged_min_score)
        return self.min_length, self.min_score


# OWASP Password Storage Cheat Sheet, Argon2id: (memory in KiB, passes) pairs that give
# the same defence, trading memory for time. A policy must reach at least one of them.
ARGON2ID_FLOOR: tuple[tuple[int, int], ...] = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))


class Hashing(BaseModel):
    """argon2id's cost for the stored passwords: memory (KiB), passes over it, lanes."""

    model_config = _FROZEN
    memory_kib: int = Field(ge=min(m for m, _t in ARGON2ID_FLOOR), le=4 * 1024 * 1024)
    time_cost: int = Field(ge=1, le=64)
    parallelism: int = Field(ge=1, le=64)
    basis: str = Field(min_length=1)

    @model_validator(mode="after")
    def _not_below_the_floor(self) -> Hashing:
        if not any(self.memory_kib >= m and self.time_cost >= t for m, t in ARGON2ID_FLOOR):
            pairs = ", ".join(f"{m} KiB × {t}" for m, t in ARGON2ID_FLOOR)
            raise ValueError(f"memory_kib {self.memory_kib} with time_cost {self.time_cost} is below "
                             f"OWASP's Argon2id minimum: reach one of {pairs}")
        return self


class SecondFactor(BaseModel):
    model_config = _FROZEN
    required_roles: list[Role]
    issuer: str = Field(min_length=1, max_length=40, pattern=r"^[^:]+$")
    recovery_codes: int = Field(ge=4, le=20)
    valid_window: int = Field(ge=0, le=2)
    basis: str = Field(min_length=1)


class Sessions(BaseModel):
    model_config = _FROZEN
    idle_minutes: int = Field(ge=1, le=24 * 60)
    absolute_hours: int = Field(ge=1, le=7 * 24)
    basis: str = Field(min_length=1)

    @model_validator(mode="after")
    def _idle_within_absolute(self) -> Sessions:
        if self.idle_minutes > self.absolute_hours * 60:
            raise ValueError("idle_minutes longer than absolute_hours would never apply")
        return self


class Tokens(BaseModel):
    model_config = _FROZEN
    default_days: int = Field(ge=1, le=3650)
    max_days: int = Field(ge=1, le=3650)
    basis: str = Field(min_length=1)

    @model_validator(mode="after")
    def _default_within_max(self) -> Tokens:
        if self.default_days > self.max_days:
            raise ValueError("default_days exceeds max_days")
        return self


class SigninPolicy(BaseModel):
    model_config = _FROZEN
    version: str
    lockout: Lockout
    rates: Rates
    passwords: Passwords
    # Optional so that a deployment's file written before it still loads: without it,
    # argon2-cffi's own figures (RFC 9106's second recommendation) apply.
    hashing: Hashing | None = None
    second_factor: SecondFactor
    sessions: Sessions
    tokens: Tokens


SIGNIN = PolicyFile(SigninPolicy, "creditgov.security", "data/signin.yaml")


def policy() -> SigninPolicy:
    """The shipped policy, or the deployment's own file named by `CREDITGOV_SIGNIN_POLICY`."""
    return _policy(os.environ.get("CREDITGOV_SIGNIN_POLICY") or "")


@lru_cache(maxsize=8)
def _policy(path: str) -> SigninPolicy:
    return SIGNIN.load(Path(path) if path else None)
