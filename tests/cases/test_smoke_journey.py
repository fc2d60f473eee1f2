import pytest

from cases.models import CaseStatus
from tests.cases.factories import journey_to

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", [s for s in CaseStatus if s != CaseStatus.DELETED])
def test_journey_reaches_every_state(state: CaseStatus) -> None:
    case = journey_to(state)

    assert case.status == state
