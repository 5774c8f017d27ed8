from tests.services.consent_fixtures import crm, environ, setup  # noqa: F401
