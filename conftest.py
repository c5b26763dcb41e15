"""Repository-level pytest settings. The hil plugin itself (fixtures/plugin.py, installed as
``hil_pytest.plugin``) is registered through the ``pytest11`` entry point, so ``pytest scenarios``
works from any folder once the package is installed; this file only keeps pytest out of folders that
hold no tests."""

collect_ignore = ["node_modules", "reports", ".hil", "bench", "docs", "profiles", "twin_secrets"]
