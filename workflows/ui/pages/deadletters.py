"""The dashboard's deadletters screen."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
