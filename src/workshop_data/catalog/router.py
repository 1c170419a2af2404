from fastapi import APIRouter, Response

from workshop_data.api_schema import api_response
from workshop_data.catalog.schemas import CatalogResponse
from workshop_data.deps import CatalogDep, CurrentUser

router = APIRouter(prefix="/api", tags=["catalog"])


@router.get("/catalog", response_model=CatalogResponse)
async def get_catalog(_user: CurrentUser, catalog: CatalogDep) -> Response:
    """The workshop catalogue.

    Its workshops, their sections and steps, and the rule by which each step counts as
    completed."""
    return api_response(CatalogResponse(workshops=catalog.document.workshops))
