"""The step catalogue: which workshops and steps exist, which steps a workshop requires and
which sections lock once the workshop is completed. Shipped as `catalog.json`; a deployment
can extend it with `WORKSHOP_DATA_CATALOG_PATH` (more workshops, sections or steps)."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from workshop_data.catalog.schemas import CatalogDocument
from workshop_data.errors import InvalidInput

PACKAGED_CATALOG = Path(__file__).with_name("catalog.json")
MAX_STEP_ID_LENGTH = 20


@dataclass(frozen=True)
class StepInfo:
    workshop_type: str
    step_id: str
    section: int
    required: bool
    locks_on_completion: bool


@dataclass
class Catalog:
    document: CatalogDocument
    _steps: dict[str, dict[str, StepInfo]] = field(default_factory=dict)
    _patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for workshop in self.document.workshops:
            self._patterns[workshop.type] = re.compile(workshop.step_id_pattern)
            self._steps[workshop.type] = {
                step.id: StepInfo(
                    workshop.type,
                    step.id,
                    section.number,
                    step.required,
                    section.locks_on_completion,
                )
                for section in workshop.sections
                for step in section.steps
            }

    @property
    def workshop_types(self) -> list[str]:
        return list(self._steps)

    def check_workshop_type(self, workshop_type: object) -> str:
        if not isinstance(workshop_type, str) or workshop_type not in self._steps:
            allowed = ", ".join(f"'{t}'" for t in self._steps)
            raise InvalidInput(
                f"workshopType must be one of {allowed}; got {_show(workshop_type)}",
                code="invalid_workshop_type",
            )
        return workshop_type

    def step(self, workshop_type: object, step_id: object) -> StepInfo:
        """The catalogue entry for a step, or InvalidInput naming what is wrong."""
        workshop = self.check_workshop_type(workshop_type)
        if not isinstance(step_id, str) or not step_id:
            raise InvalidInput("stepId must be a non-empty string", code="invalid_step_id")
        if len(step_id) > MAX_STEP_ID_LENGTH:
            raise InvalidInput(
                f"stepId must be at most {MAX_STEP_ID_LENGTH} characters; got {len(step_id)}",
                code="invalid_step_id",
            )
        info = self._steps[workshop].get(step_id)
        if info is not None:
            return info
        for other, steps in self._steps.items():
            if other != workshop and (step_id in steps or self._patterns[other].match(step_id)):
                raise InvalidInput(
                    f"stepId '{step_id}' belongs to the {other.upper()} workshop, "
                    f"not to workshopType '{workshop}'",
                    code="invalid_step_id",
                )
        raise InvalidInput(
            f"stepId '{step_id}' is not a step of the {workshop.upper()} workshop",
            code="invalid_step_id",
        )

    def steps_of(self, workshop_type: str) -> list[StepInfo]:
        return list(self._steps[workshop_type].values())

    def required_steps(self, workshop_type: str) -> list[str]:
        return [s.step_id for s in self._steps[workshop_type].values() if s.required]


def _show(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else type(value).__name__


def _merge(base: CatalogDocument, extra: CatalogDocument) -> CatalogDocument:
    workshops = {w.type: w.model_copy(deep=True) for w in base.workshops}
    for addition in extra.workshops:
        current = workshops.get(addition.type)
        if current is None:
            workshops[addition.type] = addition
            continue
        sections = {s.number: s for s in current.sections}
        for section in addition.sections:
            existing = sections.get(section.number)
            if existing is None:
                sections[section.number] = section
            else:
                known = {s.id for s in existing.steps}
                existing.steps.extend(s for s in section.steps if s.id not in known)
        current.sections = sorted(sections.values(), key=lambda s: s.number)
    return CatalogDocument(workshops=list(workshops.values()))


def load_catalog(extra_path: Path | None = None) -> Catalog:
    document = CatalogDocument.model_validate_json(PACKAGED_CATALOG.read_bytes())
    if extra_path is not None:
        document = _merge(document, CatalogDocument.model_validate_json(extra_path.read_bytes()))
    return Catalog(document)
