def test_it_answers_status_without_credentials(client):
    response = client.get("/v6/status.json")
    assert response.status_code == 200
    assert isinstance(response.json()["timestamp"], int)
