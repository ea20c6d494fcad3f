from typing import Literal

from pydantic import BaseModel


class HealthDependencies(BaseModel):
    postgres: Literal["ok", "down"]
    redis: Literal["ok", "down"]
    elasticsearch: Literal["ok", "down", "not_configured"]
    storage: Literal["ok", "down"]


class HealthOut(BaseModel):
    status: Literal["ok", "degraded", "down"]
    dependencies: HealthDependencies
