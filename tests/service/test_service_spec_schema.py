"""The HTTP spec schema is the rule families' spec, field by field.

Requests are read by ``PlanSpec.from_dict`` alone; the pydantic bodies only document them in
the OpenAPI schema. These tests keep the two from drifting apart: every key a family reads is
documented, with the same nested fields, and nothing else is.
"""

from __future__ import annotations

import dataclasses

import pytest

from optimizer.rules import SPEC_KEYS, Exclusions, GroupRule, LineRule, Pacing, ResultsFloor
from service.schemas import (
    ExcludeBody,
    LineRuleBody,
    PacingBody,
    ResultsFloorBody,
    RuleBody,
    SpecBody,
    SpecPatchBody,
)


def _fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_the_spec_body_documents_every_key_the_families_read():
    assert set(SpecBody.model_fields) == set(SPEC_KEYS)
    assert set(SpecPatchBody.model_fields) == set(SPEC_KEYS)


@pytest.mark.parametrize(
    ("body", "typed"),
    [
        (RuleBody, GroupRule),
        (LineRuleBody, LineRule),
        (ExcludeBody, Exclusions),
        (PacingBody, Pacing),
        (ResultsFloorBody, ResultsFloor),
    ],
)
def test_each_rule_body_has_the_fields_of_its_typed_rule(body, typed):
    assert set(body.model_fields) == _fields(typed)


def test_the_patch_body_makes_every_key_optional():
    assert all(not f.is_required() for f in SpecPatchBody.model_fields.values())
    assert [k for k, f in SpecBody.model_fields.items() if f.is_required()] == ["budget"]
