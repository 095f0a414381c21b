"""Which packages the distribution installs, and under which names (everything else is in
pyproject.toml).

The source keeps ``ui/`` and ``main.py``; installed, ``ui/`` becomes ``lrviz_app`` (every
subpackage found, so a new one cannot be left out) with ``resources/`` inside it as
``lrviz_app/resources``, where ``ui.resource_files`` looks first. ``main.py`` is not installed:
the ``lrviz`` command is ``lrviz.launch:main``. Nothing generic (``main``, ``ui``) lands on
everyone's import path.
"""

from setuptools import find_packages, setup

APP = "lrviz_app"


def app_packages() -> list[str]:
    return [APP + name[len("ui") :] for name in find_packages(include=["ui", "ui.*"])]


setup(
    packages=[*find_packages(include=["lrviz", "lrviz.*"]), *app_packages(), f"{APP}.resources"],
    package_dir={APP: "ui", f"{APP}.resources": "resources"},
    package_data={f"{APP}.resources": ["**/*"]},
    include_package_data=False,
)
