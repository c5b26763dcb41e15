"""Which packages the distribution installs, and under which names (everything else is in pyproject.toml).

The repository keeps the pytest plugin in its ``fixtures/`` folder, but installs it as ``hil_pytest``:
a top-level ``fixtures`` in site-packages would be the name of testtools' PyPI package ``fixtures``,
and installing the two side by side would break one of them. pyproject.toml alone cannot both find
``harness``'s subpackages and map a folder to another name, hence this file.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["harness", "harness.*"]), "hil_pytest"],
    package_dir={"hil_pytest": "fixtures"},
)
