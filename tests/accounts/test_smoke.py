def test_owner_reaches_dashboard(owner_client, org):
    response = owner_client.get(f"/o/{org.slug}/")
    assert response.status_code == 200


def test_outsider_gets_404(outsider_client, org):
    assert outsider_client.get(f"/o/{org.slug}/").status_code == 404
