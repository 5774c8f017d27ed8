from tests.sources.crm_fixtures import crm_environ, crm_path, demo_dataset, demo_profile  # noqa: F401
