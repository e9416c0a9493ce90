import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_path_is_the_error_shape_even_in_debug(client, settings, debug):
    settings.DEBUG = debug
    response = client.get("/api/v1/no/such/thing", HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["request_id"] == "req-42"
