import json
from pathlib import Path

import pytest

from workshop_data.catalog.service import load_catalog
from workshop_data.errors import InvalidInput

catalog = load_catalog()


def test_the_original_steps_exist() -> None:
    ast = {s.step_id for s in catalog.steps_of("ast")}
    ia = {s.step_id for s in catalog.steps_of("ia")}
    assert {
        f"{sec}-{n}" for sec, count in ((2, 4), (3, 4), (4, 5)) for n in range(1, count + 1)
    } <= ast
    assert {f"ia-{sec}-{n}" for sec in range(1, 5) for n in range(1, 4)} <= ia
    assert {"ia-3-2", "ia-3-3", "ia-3-4", "ia-4-6"} <= ia
    assert not ast & ia


@pytest.mark.parametrize(
    ("workshop", "step", "message"),
    [
        ("ast", "ia-3-4", "belongs to the IA workshop"),
        ("ia", "2-1", "belongs to the AST workshop"),
        ("ia", "ia-9-1", "not a step of the IA workshop"),
        ("ast", "x" * 21, "at most 20"),
        ("other", "2-1", "workshopType must be one of 'ast', 'ia'"),
        ("ast", "", "non-empty"),
    ],
)
def test_wrong_steps_are_named(workshop: str, step: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        catalog.step(workshop, step)


def test_intro_sections_do_not_lock() -> None:
    assert catalog.step("ast", "1-1").locks_on_completion is False
    assert catalog.step("ia", "ia-3-4").locks_on_completion is True
    assert "1-1" not in catalog.required_steps("ast")
    assert "4-5" in catalog.required_steps("ast")


def test_a_deployment_can_extend_the_catalog(tmp_path: Path) -> None:
    extra = tmp_path / "extra.json"
    extra.write_text(
        json.dumps(
            {
                "workshops": [
                    {
                        "type": "ia",
                        "name": "Imaginal Agility",
                        "stepIdPattern": "^ia-[0-9]+-[0-9]+$",
                        "sections": [
                            {
                                "number": 5,
                                "key": "beyond",
                                "title": "Beyond",
                                "steps": [{"id": "ia-5-1", "title": "Next"}],
                            },
                            {
                                "number": 4,
                                "key": "integrate",
                                "title": "Integrate",
                                "steps": [{"id": "ia-4-7", "title": "Extra"}],
                            },
                        ],
                    }
                ]
            }
        )
    )
    extended = load_catalog(extra)
    assert extended.step("ia", "ia-5-1").section == 5
    assert extended.step("ia", "ia-4-7").required is True
    assert extended.step("ia", "ia-3-4").step_id == "ia-3-4"
