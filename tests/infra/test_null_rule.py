"""One null rule for every request body (api/types.RequestModel): a field whose type does
not take null answers 400 "may not be null" when sent as null; an optional one is cleared.
Before, seven services each checked their PATCH fields by hand, with two wordings."""

import json

import pytest
from pydantic import ValidationError

from chalicelib.api.errors import validation_details
from chalicelib.budgets.models import BudgetPatch
from chalicelib.categorization.models import RulePatch
from chalicelib.families.models import FamilyPatch
from chalicelib.goals.models import GoalPatch
from chalicelib.ledger.accounts.models import AccountPatch
from chalicelib.ledger.categories.models import CategoryPatch
from chalicelib.ledger.transactions.models import TransactionPatch
from chalicelib.users.models import UserPatch
from tests.factories import make_account

PATCHES = (AccountPatch, BudgetPatch, CategoryPatch, FamilyPatch, GoalPatch, RulePatch, TransactionPatch, UserPatch)


@pytest.mark.parametrize("model", PATCHES, ids=lambda m: m.__name__)
def test_every_patch_field_that_cannot_be_cleared_refuses_null_in_one_wording(model):
    for name, field in model.model_fields.items():
        payload = {field.alias or name: None}
        try:
            model.model_validate(payload)
        except ValidationError as exc:
            assert validation_details(exc) == [{"field": field.alias or name, "message": "may not be null"}]
        else:
            assert model.model_validate(payload).model_dump(exclude_unset=True) == {name: None}


def test_through_the_api_null_is_400_where_it_cannot_clear_and_clears_where_it_can(client, conn, make_user):
    user = make_user()
    account = make_account(conn, user["id"], name="Main")
    r = client.http.patch(f"/accounts/{account}", body=json.dumps({"name": None}), headers=user["headers"])
    assert r.status_code == 400
    assert json.loads(r.body)["error"]["details"] == [{"field": "name", "message": "may not be null"}]
    r = client.http.patch(f"/accounts/{account}", body=json.dumps({"institution": None}), headers=user["headers"])
    assert r.status_code == 200 and json.loads(r.body)["institution"] is None
